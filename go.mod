module github.com/pathguard/pathguard

go 1.25.12

require golang.org/x/sys v0.47.0

require github.com/cyphar/filepath-securejoin v0.7.0 // indirect
