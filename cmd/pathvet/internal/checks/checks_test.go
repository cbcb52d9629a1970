package checks_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/pathguard/pathguard/cmd/pathvet/internal/checks"
)

// Each rule runs on its own package of true positives (a want comment on
// each) and true negatives (no comment: a report there fails the test).
func TestRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a   *analysis.Analyzer
		pkg string
	}{
		{checks.PathInject, "pathinject"},
		{checks.PathInject, "gin"},
		{checks.ZipSlip, "zipslip"},
		{checks.ArchiveBomb, "archivebomb"},
		{checks.PrefixCheck, "prefixcheck"},
		{checks.ResolveUse, "resolveuse"},
		{checks.PermWindow, "permwindow"},
		{checks.UntrustedRoot, "untrustedroot"},
	} {
		t.Run(tc.a.Name+"/"+tc.pkg, func(t *testing.T) {
			t.Parallel()
			analysistest.Run(t, analysistest.TestData(), tc.a, tc.pkg)
		})
	}
}

// The suggested fixes, applied, must give the golden files.
func TestSuggestedFixes(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.PathInject, "openinroot")
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.PrefixCheck, "within")
}
