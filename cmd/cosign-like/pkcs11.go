package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

func init() { addCommand(newPKCS11ToolCmd) }

// pkcs11Flags are the flags that reach keys kept on PKCS#11 tokens: the token's PIN and, for
// server keys, the module. Commands taking --key call the PIN --pin, as cosign does; the server
// commands call it --pkcs11-pin, beside --pkcs11-module.
type pkcs11Flags struct {
	pin, module string
}

// The two names of the PIN flag.
const (
	pinFlag       = "pin"
	serverPINFlag = "pkcs11-pin"
)

var pinUsage = map[string]string{
	pinFlag:       "PIN of the PKCS#11 token (default: pin-value in the URI, else " + signer.EnvPKCS11PIN + ")",
	serverPINFlag: "PKCS#11 user PIN for a key kept on a token (or pin-value in the URI)",
}

// addPINFlag registers the PIN flag under name: pinFlag or serverPINFlag.
func (f *pkcs11Flags) addPINFlag(fs *pflag.FlagSet, name string) {
	fs.StringVar(&f.pin, name, "", pinUsage[name])
}

// addFlags registers the flags of a server command: --pkcs11-pin and, withModule,
// --pkcs11-module.
func (f *pkcs11Flags) addFlags(cmd *cobra.Command, withModule bool) {
	f.addPINFlag(cmd.Flags(), serverPINFlag)
	if withModule {
		cmd.Flags().StringVar(&f.module, "pkcs11-module", "", "PKCS#11 module path (or module-path in the URI)")
	}
}

// signerOptions turns the flags into options for signer.LoadSigner and friends.
func (f *pkcs11Flags) signerOptions() []signer.Option {
	var opts []signer.Option
	if f.pin != "" {
		opts = append(opts, signer.WithPKCS11PIN(f.pin))
	}
	if f.module != "" {
		opts = append(opts, signer.WithPKCS11ModulePath(f.module))
	}
	return opts
}

// interactiveSignerOptions is signerOptions plus a PIN prompt on the terminal for tokens whose
// PIN comes from nowhere else (URI, --pin, COSIGN_PKCS11_PIN).
func (f *pkcs11Flags) interactiveSignerOptions(cmd *cobra.Command) []signer.Option {
	return append(f.signerOptions(), signer.WithPKCS11PINPrompt(func(token string) (string, error) {
		fd, ok := terminalFD(cmd.InOrStdin())
		if !ok {
			return "", nil
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Enter PIN for PKCS#11 token %q: ", token)
		pin, err := term.ReadPassword(fd)
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(pin), err
	}))
}

// modulePathOrEnv returns the module path flag, or COSIGN_PKCS11_MODULE_PATH.
func modulePathOrEnv(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := os.Getenv(signer.EnvPKCS11ModulePath); p != "" {
		return p, nil
	}
	// Not marked required: the environment may give it.
	return "", fmt.Errorf("--module-path is required (or set %s)", signer.EnvPKCS11ModulePath)
}

func newPKCS11ToolCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pkcs11-tool",
		Short: "List the tokens of a PKCS#11 module and the URIs of the keys on a token",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newListTokensCmd(), newListKeysURIsCmd())
	return cmd
}

func newListTokensCmd() *cobra.Command {
	var modulePath string
	cmd := &cobra.Command{
		Use:     "list-tokens",
		Short:   "List the tokens of a PKCS#11 module",
		Example: `  cosign-like pkcs11-tool list-tokens --module-path /usr/lib/softhsm/libsofthsm2.so`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := modulePathOrEnv(modulePath)
			if err != nil {
				return err
			}
			tokens, err := signer.ListPKCS11Tokens(cmd.Context(), path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Listing tokens of PKCS11 module '%s'\n", path)
			for _, t := range tokens {
				fmt.Fprintf(out, "Token in slot %d\n\tLabel: %s\n\tManufacturer: %s\n\tModel: %s\n\tS/N: %s\n",
					t.Slot, t.Label, t.Manufacturer, t.Model, t.Serial)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&modulePath, "module-path", "", "absolute path of the PKCS#11 module (default: "+signer.EnvPKCS11ModulePath+")")
	return cmd
}

func newListKeysURIsCmd() *cobra.Command {
	var (
		modulePath, tokenLabel string
		slotID                 int
		tok                    pkcs11Flags
	)
	cmd := &cobra.Command{
		Use:   "list-keys-uris",
		Short: "List the PKCS#11 URIs of the key pairs on a token",
		Long: `List the key pairs on a token with the PKCS#11 URI that names each, ready for --key.
The URIs carry no PIN: give it with --pin or COSIGN_PKCS11_PIN when using them.`,
		Example: `  cosign-like pkcs11-tool list-keys-uris --module-path /usr/lib/softhsm/libsofthsm2.so --token-label signing --pin 1234`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := modulePathOrEnv(modulePath)
			if err != nil {
				return err
			}
			u := &signer.PKCS11URI{Token: tokenLabel, ModulePath: path}
			if cmd.Flags().Changed("slot-id") {
				if slotID < 0 {
					return fmt.Errorf("--slot-id %d is negative", slotID)
				}
				u.SlotID = &slotID
			}
			keys, err := signer.ListPKCS11Keys(cmd.Context(), u.String(), tok.interactiveSignerOptions(cmd)...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			where := "token '" + tokenLabel + "'"
			if u.SlotID != nil {
				where = "slot '" + strconv.Itoa(slotID) + "'"
			}
			fmt.Fprintf(out, "Listing URIs of keys in %s of PKCS11 module '%s'\n", where, path)
			for i, k := range keys {
				fmt.Fprintf(out, "Object %d\n", i)
				if k.Label != "" {
					fmt.Fprintf(out, "\tLabel: %s\n", k.Label)
				}
				if len(k.ID) > 0 {
					fmt.Fprintf(out, "\tID: %s\n", hex.EncodeToString(k.ID))
				}
				fmt.Fprintf(out, "\tURI: %s\n", k.URI)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&modulePath, "module-path", "", "absolute path of the PKCS#11 module (default: "+signer.EnvPKCS11ModulePath+")")
	cmd.Flags().IntVar(&slotID, "slot-id", 0, "slot of the token")
	cmd.Flags().StringVar(&tokenLabel, "token-label", "", "label of the token")
	markOneOf(cmd, "slot-id", "token-label")
	tok.addPINFlag(cmd.Flags(), pinFlag)
	return cmd
}
