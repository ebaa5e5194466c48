package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/tuf"
)

func init() { addCommand(newInitializeCmd) }

// envTUFMirror names the environment variable holding the default TUF mirror URL (dev up
// prints it).
const envTUFMirror = "COSIGN_LIKE_TUF_MIRROR"

// maxRootFile bounds the initial root.json read from disk.
const maxRootFile = 512 << 10

func newInitializeCmd() *cobra.Command {
	var mirror, rootFile, checksum, cacheDir string
	cmd := &cobra.Command{
		Use:   "initialize",
		Short: "Fetch the trusted root and signing config over TUF and cache them",
		Long: `initialize trusts the given root.json for a TUF mirror, fetches and verifies the
metadata (following root rotations) and the targets trusted_root.json and
signing_config.v0.2.json, and caches them under $COSIGN_LIKE_HOME/tuf (default
~/.cosign-like/tuf). Commands then use the cache when --trusted-root and --signing-config
are not given, refreshing it online, or using it as is with --offline.`,
		Example: `  cosign-like initialize --mirror https://tuf.example.com --root root.json
  cosign-like initialize --mirror "$COSIGN_LIKE_TUF_MIRROR" --root "$COSIGN_LIKE_TUF_MIRROR/1.root.json" --root-checksum <sha256 of root.json>`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mirror == "" { // not marked required: the environment may give it
				return fmt.Errorf("--mirror is required (or set %s)", envTUFMirror)
			}
			root, err := readInitialRoot(cmd, rootFile, checksum)
			if err != nil {
				return fmt.Errorf("initialize: %w", err)
			}
			trusted, signing, err := tuf.Initialize(cmd.Context(), tuf.InitOptions{
				Mirror: mirror, Root: root, RootChecksum: checksum, CacheDir: cacheDir,
			})
			if err != nil {
				return fmt.Errorf("initialize: %w", err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "TUF cache initialized for %s\n", mirror)
			fmt.Fprintf(w, "%s: %d bytes, sha256 %x\n", tuf.TrustedRootTarget, len(trusted), sha256.Sum256(trusted))
			if signing != nil {
				fmt.Fprintf(w, "%s: %d bytes, sha256 %x\n", tuf.SigningConfigTarget, len(signing), sha256.Sum256(signing))
			} else {
				fmt.Fprintf(w, "%s: not in the repository\n", tuf.SigningConfigTarget)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&mirror, "mirror", envDefault(envTUFMirror, ""), "TUF repository base URL (default $"+envTUFMirror+")")
	cmd.Flags().StringVar(&rootFile, "root", "", "initial trusted root.json of the repository: a file, or an http(s) URL together with --root-checksum (required)")
	markRequired(cmd.Flags(), "root", "the repository's initial root.json, obtained out of band")
	cmd.Flags().StringVar(&checksum, "root-checksum", "", "expected SHA-256 (hex) of the --root file; required when --root is a URL")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "TUF cache directory (default $COSIGN_LIKE_HOME/tuf or ~/.cosign-like/tuf)")
	return boundInTime(cmd)
}

// readInitialRoot reads the --root file, or fetches it when it is an http(s) URL (which needs
// --root-checksum).
func readInitialRoot(cmd *cobra.Command, ref, checksum string) ([]byte, error) {
	if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
		return tuf.FetchRoot(cmd.Context(), ref, checksum, nil)
	}
	st, err := os.Stat(ref)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxRootFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", ref, st.Size(), maxRootFile)
	}
	return os.ReadFile(ref)
}
