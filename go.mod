module github.com/pathguard/pathguard

go 1.25.12

require (
	github.com/cyphar/filepath-securejoin v0.7.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.47.0
)

require cyphar.com/go-pathrs v0.2.5 // indirect
