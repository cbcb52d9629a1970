package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const (
	cliEnv    = "SECRETFILE_TEST_CLI"    // run as the command itself
	attackEnv = "SECRETFILE_TEST_ATTACK" // run the attacker's loop on this directory

	nobody   = 65534 // the user who writes the secret
	attacker = 12345 // the user who wants it
)

// TestMain runs the command, or the attacker, instead of the tests when
// the binary was re-executed for that.
func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
	}
	if dir := os.Getenv(attackEnv); dir != "" {
		attack(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runIn runs the command in-process with stdin and returns its status
// and what it printed.
func runIn(stdin string, args ...string) (int, string) {
	var errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &errOut)
	return code, errOut.String()
}

// TestSecretfile: the command as a user runs it, alone.
func TestSecretfile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cred")
	defer syscall.Umask(syscall.Umask(0))

	if code, msg := runIn("s3cret", "--output-file", out); code != 0 {
		t.Fatalf("secretfile --output-file %s = %d, %q", out, code, msg)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(out, &st); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "s3cret" || st.Mode&0o7777 != 0o600 || int(st.Gid) != os.Getegid() {
		t.Errorf("%s holds %q, mode %o, gid %d; want the secret, 600, gid %d", out, b, st.Mode&0o7777, st.Gid, os.Getegid())
	}

	// An existing file needs --force.
	if code, msg := runIn("other", "--output-file", out); code != 1 || !strings.Contains(msg, "use --force") {
		t.Errorf("secretfile over an existing file = %d, %q; want 1 and a hint at --force", code, msg)
	}
	if code, msg := runIn("new", "--output-file", out, "--force"); code != 0 {
		t.Errorf("secretfile --force = %d, %q", code, msg)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Errorf("after --force %s holds %q, want %q", out, b, "new")
	}

	// A link at the name is refused and its target left alone.
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("target"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		args := []string{"--output-file", link}
		if force {
			args = append(args, "--force")
		}
		if code, msg := runIn("s3cret", args...); code != 1 || !strings.Contains(msg, "symbolic link") {
			t.Errorf("secretfile %q = %d, %q; want 1 and the link named", args, code, msg)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "target" {
		t.Errorf("the link's target now holds %q", b)
	}

	// Usage errors.
	for _, args := range [][]string{nil, {"--output-file"}, {"--output-file", out, "extra"}, {"--bogus"}} {
		if code, _ := runIn("", args...); code != 2 {
			t.Errorf("secretfile %q = %d, want 2", args, code)
		}
	}
}

// attack is the attacker of the credential-file bug, run as another
// user in the shared sticky directory dir: it keeps a file of its own
// ("bait", mode 0666) open from the start, and until its standard input
// is closed it re-plants the output name "cred" in a loop, as a link to
// the bait and as a file of its own, either of which a careless writer
// would write the secret into. Then it prints how many plants it made and
// everything it can read: its descriptor on the bait and the name.
func attack(dir string) {
	bait, cred := filepath.Join(dir, "bait"), filepath.Join(dir, "cred")
	syscall.Umask(0) // the bait and the planted files are 0666: anyone may write them
	if err := os.WriteFile(bait, nil, 0o666); err != nil {
		fmt.Println("ERROR", err)
		return
	}
	fd, err := os.Open(bait)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	fmt.Println("READY")
	plants := 0
	for i := 0; ; i++ {
		select {
		case <-stop:
			got, _ := io.ReadAll(fd)
			now, err := os.ReadFile(cred)
			fmt.Printf("PLANTS %d\nBAIT %q\nCRED %q %v\n", plants, got, now, err)
			return
		default:
		}
		// Our own entry can go; the writer's cannot (sticky).
		os.Remove(cred)
		if i%2 == 0 {
			err = os.Symlink("bait", cred)
		} else {
			err = os.WriteFile(cred, nil, 0o666)
		}
		if err == nil {
			plants++
		}
	}
}

// copyBinary copies the test binary where every user can run it: the go
// tool keeps it in a 0700 directory.
func copyBinary(t *testing.T, dir string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "secretfile.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestSecretfileAttack: the credential-file bug, played for real. User
// nobody writes a secret to cred in a shared sticky directory with
// --force, again and again, while another user re-plants cred in a loop
// (a link to a file it holds open, or a file of its own). The secret must
// never reach the attacker, and every failure must be one the command
// explains: a refusal, never a bare "operation not permitted".
func TestSecretfileAttack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as two other users")
	}
	const runs = 60 // writes, each racing the attacker's loop
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := copyBinary(t, base)
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(shared, "cred")

	atk := exec.Command(bin)
	atk.Env = append(os.Environ(), attackEnv+"="+shared)
	atk.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: attacker, Gid: attacker}}
	stdin, err := atk.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := atk.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	atk.Stderr = os.Stderr
	if err := atk.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "READY\n" {
		stdin.Close()
		atk.Wait()
		t.Fatalf("attacker said %q, %v; want READY", line, err)
	}

	outcomes := map[string]int{}
	for i := range runs {
		secret := fmt.Sprintf("secret-%d", i)
		cmd := exec.Command(bin, "--output-file", cred, "--force")
		cmd.Env = append(os.Environ(), cliEnv+"=1")
		cmd.Stdin = strings.NewReader(secret)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		err := cmd.Run()
		msg := errOut.String()
		switch {
		case err == nil:
			outcomes["written"]++
			// The secret is nobody's alone; take it away so the race
			// can run again.
			var st syscall.Stat_t
			if err := syscall.Lstat(cred, &st); err != nil || st.Uid != nobody || st.Mode&0o7777 != 0o600 || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
				t.Errorf("run %d succeeded, but %s has uid %d, mode %o (%v); want a regular file of uid %d, mode 600", i, cred, st.Uid, st.Mode, err, nobody)
				continue
			}
			if err := os.Remove(cred); err != nil {
				t.Fatal(err)
			}
		case strings.Contains(msg, "refused: ") && strings.Contains(msg, "symbolic link"):
			outcomes["refused: link"]++
		case strings.Contains(msg, "refused: another user"):
			outcomes["refused: another user's file"]++
		default:
			t.Errorf("run %d: secretfile = %v, %q; want success or an explained refusal", i, err, msg)
		}
	}
	stdin.Close()
	rest, _ := io.ReadAll(out)
	if err := atk.Wait(); err != nil {
		t.Fatalf("attacker: %v\n%s", err, rest)
	}
	t.Logf("%d runs: %v; attacker: %s", runs, outcomes, strings.ReplaceAll(string(rest), "\n", "; "))
	if bytes.Contains(rest, []byte("secret-")) || !bytes.HasPrefix(rest, []byte("PLANTS ")) {
		t.Errorf("the attacker read the secret, or failed:\n%s", rest)
	}
	if b, _ := os.ReadFile(filepath.Join(shared, "bait")); bytes.Contains(b, []byte("secret-")) {
		t.Errorf("the attacker's file holds %q", b)
	}
}
