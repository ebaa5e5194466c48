package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// globChars are the characters an image glob may hold: those of image references, and *.
var globChars = regexp.MustCompile(`^[a-zA-Z0-9\-_:/*.@]+$`)

// Glob is a compiled image glob. In a glob, * matches any run of characters other than /, and
// ** any run of characters at all; everything else matches itself. The glob must match the
// whole reference. As policy-controller reads them, the glob "*" means
// index.docker.io/library/* (Docker Hub's official images) and "*/*" means
// index.docker.io/*/*.
type Glob struct {
	pattern string
	re      *regexp.Regexp
}

// CompileGlob compiles an image glob.
func CompileGlob(glob string) (*Glob, error) {
	g := glob
	switch g {
	case "*":
		g = "index.docker.io/library/*"
	case "*/*":
		g = "index.docker.io/*/*"
	}
	if !globChars.MatchString(g) {
		return nil, fmt.Errorf("glob %q is invalid: only the characters of image references and * may appear", glob)
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch {
		case g[i] == '*' && i+1 < len(g) && g[i+1] == '*':
			b.WriteString(".*")
			i++
		case g[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(g[i : i+1]))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("glob %q is invalid: %w", glob, err)
	}
	return &Glob{pattern: glob, re: re}, nil
}

// String returns the glob as written.
func (g *Glob) String() string { return g.pattern }

// Match says whether image matches. The reference is first written in full, as
// go-containerregistry names it (a registry, Docker Hub as index.docker.io, library/ for its
// official images, :latest when neither tag nor digest is given, and no tag beside a digest):
// "nginx" is index.docker.io/library/nginx:latest. When that does not match, the reference as
// given is tried too, as policy-controller still does. An image that is not a reference
// matches nothing and is an error.
func (g *Glob) Match(image string) (bool, error) {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return false, err
	}
	full := ref.Name()
	if g.re.MatchString(full) {
		return true, nil
	}
	return full != image && g.re.MatchString(image), nil
}
