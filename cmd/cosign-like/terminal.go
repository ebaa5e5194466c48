package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// terminalFD returns the file descriptor of in when it is a terminal.
func terminalFD(in io.Reader) (int, bool) {
	f, ok := in.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// isTerminal reports whether in is an interactive terminal.
func isTerminal(in io.Reader) bool {
	_, ok := terminalFD(in)
	return ok
}
