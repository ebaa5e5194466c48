package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

func newDevTokenCmd() *cobra.Command {
	var issuer, email, subject, audience string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an ID token for an identity from the local stack's OIDC dev issuer (non-interactive)",
		Example: `  cosign-like dev token --email alice@example.com
  cosign-like sign -y --identity-token "$(cosign-like dev token --email alice@example.com)" IMAGE`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if issuer == "" {
				return fmt.Errorf("no dev issuer: pass --issuer or set COSIGN_LIKE_OIDC_ISSUER (see `cosign-like dev up`)")
			}
			if email == "" && subject == "" {
				return fmt.Errorf("say whose token: --email or --subject")
			}
			form := url.Values{}
			for k, v := range map[string]string{"email": email, "sub": subject, "aud": audience} {
				if v != "" {
					form.Set(k, v)
				}
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimSuffix(issuer, "/")+oidc.DevMintPath, strings.NewReader(form.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := netutil.Client(nil, 0).Do(req)
			if err != nil {
				return fmt.Errorf("asking the dev issuer for a token: %w", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("the dev issuer refused: %s: %s", resp.Status, strings.TrimSpace(string(body)))
			}
			var tok struct {
				IDToken string `json:"id_token"`
			}
			if err := json.Unmarshal(body, &tok); err != nil || tok.IDToken == "" {
				return fmt.Errorf("the dev issuer answered without an id_token")
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok.IDToken)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&issuer, "issuer", envDefault("COSIGN_LIKE_OIDC_ISSUER", ""), "the dev issuer URL (default $COSIGN_LIKE_OIDC_ISSUER)")
	fs.StringVar(&email, "email", "", "email identity of the token")
	fs.StringVar(&subject, "subject", "", "subject (sub claim) of the token (default: the email)")
	fs.StringVar(&audience, "audience", "", "audience of the token (default: sigstore)")
	return boundInTime(cmd)
}
