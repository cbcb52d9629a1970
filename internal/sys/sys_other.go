//go:build !linux

package sys
