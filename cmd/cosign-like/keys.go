package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

func init() {
	addCommand(newGenerateKeyPairCmd)
	addCommand(newImportKeyPairCmd)
	addCommand(newPublicKeyCmd)
}

// keyPairOptions are the flags of the commands that write a key pair.
type keyPairOptions struct {
	outputPrefix string
	yes          bool
}

func (o *keyPairOptions) addFlags(cmd *cobra.Command, defaultPrefix string) {
	cmd.Flags().StringVar(&o.outputPrefix, "output-key-prefix", defaultPrefix,
		"write the key pair to <prefix>.key and <prefix>.pub")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "overwrite existing key files without asking")
}

// confirmOverwrite makes sure that no existing key file is replaced without consent.
func (o *keyPairOptions) confirmOverwrite(cmd *cobra.Command) error {
	for _, p := range []string{o.outputPrefix + ".key", o.outputPrefix + ".pub"} {
		if err := confirmOverwrite(cmd, p, o.yes); err != nil {
			return err
		}
	}
	return nil
}

// writeKeyPair writes the encrypted private key (mode 0600) and the public key (0644).
func (o *keyPairOptions) writeKeyPair(cmd *cobra.Command, privPEM, pubPEM []byte) error {
	keyPath, pubPath := o.outputPrefix+".key", o.outputPrefix+".pub"
	if err := writeFileMode(keyPath, privPEM, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Private key written to %s\n", keyPath)
	if err := writeFileMode(pubPath, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Public key written to %s\n", pubPath)
	return nil
}

// writeFileMode writes data to path and sets its mode, also when the file existed before.
func writeFileMode(path string, data []byte, mode os.FileMode) error {
	// Atomic, so that an interrupted command never leaves half a key file.
	return fsutil.WriteFileAtomic(path, data, mode)
}

func newGenerateKeyPairCmd() *cobra.Command {
	var (
		o      keyPairOptions
		tok    pkcs11Flags
		alg    string
		kmsRef string
	)
	cmd := &cobra.Command{
		Use:   "generate-key-pair",
		Short: "Generate a key pair: <prefix>.key (encrypted with a password) and <prefix>.pub",
		Long: `Generate a key pair in cosign's format: <prefix>.key holds the private key encrypted
with a password (scrypt and NaCl secretbox, PEM "ENCRYPTED SIGSTORE PRIVATE KEY"), <prefix>.pub
the public key. The password is read from COSIGN_PASSWORD when set, else from the terminal.

With --kms the private key is created where it stays: on a PKCS#11 token for a pkcs11: URI
(object= becomes the key's label; an existing key is never replaced) or by the KMS plugin
sigstore-kms-<name> for a <name>:// reference. Only <prefix>.pub is written.`,
		Example: `  cosign-like generate-key-pair
  COSIGN_PASSWORD=secret cosign-like generate-key-pair --output-key-prefix release --signing-algorithm ecdsa-p384
  cosign-like generate-key-pair --kms 'pkcs11:token=signing;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kmsRef != "" {
				if !cmd.Flags().Changed("signing-algorithm") {
					alg = "" // the token's or plugin's default
				}
				return createKMSKey(cmd, &o, kmsRef, alg, tok.interactiveSignerOptions(cmd))
			}
			priv, err := signer.GenerateKey(alg)
			if err != nil {
				return err
			}
			if err := o.confirmOverwrite(cmd); err != nil {
				return err
			}
			password, err := keyPasswordFunc(cmd)(true)
			if err != nil {
				return err
			}
			return marshalAndWriteKeyPair(cmd, &o, priv, password)
		},
	}
	o.addFlags(cmd, "cosign")
	tok.addPINFlag(cmd.Flags(), pinFlag)
	cmd.Flags().StringVar(&kmsRef, "kms", "", "create the key on a PKCS#11 token (pkcs11: URI) or in a KMS (<name>:// reference) instead of a file")
	cmd.Flags().StringVar(&alg, "signing-algorithm", "ecdsa-p256",
		"key algorithm: ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519, rsa-2048, rsa-3072, rsa-4096 (or a Sigstore name such as ecdsa-sha2-256-nistp256)")
	return boundInTime(cmd)
}

// createKMSKey creates a key on a token or in a KMS and writes its public key.
func createKMSKey(cmd *cobra.Command, o *keyPairOptions, ref, alg string, opts []signer.Option) error {
	pubPath := o.outputPrefix + ".pub"
	if err := confirmOverwrite(cmd, pubPath, o.yes); err != nil {
		return err
	}
	pub, err := signer.CreateKey(cmd.Context(), ref, alg, opts...)
	if err != nil {
		return err
	}
	pubPEM, err := signer.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	shown := ref
	if u, perr := signer.ParsePKCS11URI(ref); perr == nil {
		shown = u.String() // without the PIN
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Key created: %s\n", shown)
	if err := writeFileMode(pubPath, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Public key written to %s\n", pubPath)
	return nil
}

// marshalAndWriteKeyPair encrypts priv with password and writes both key files (overwrite
// consent was checked before the password was asked).
func marshalAndWriteKeyPair(cmd *cobra.Command, o *keyPairOptions, priv any, password []byte) error {
	privPEM, err := signer.MarshalEncryptedPrivateKey(priv, password)
	if err != nil {
		return err
	}
	s, err := signer.NewSigner(priv)
	if err != nil {
		return err
	}
	pubPEM, err := signer.MarshalPublicKeyPEM(s.Public())
	if err != nil {
		return err
	}
	return o.writeKeyPair(cmd, privPEM, pubPEM)
}

func newImportKeyPairCmd() *cobra.Command {
	var (
		o       keyPairOptions
		keyPath string
	)
	cmd := &cobra.Command{
		Use:   "import-key-pair",
		Short: "Import a PEM private key (PKCS#8, EC or RSA) into cosign's encrypted key format",
		Long: `Import an unencrypted PEM private key (PKCS#8 "PRIVATE KEY" holding ECDSA, Ed25519 or
RSA; SEC 1 "EC PRIVATE KEY"; PKCS#1 "RSA PRIVATE KEY") and write it as <prefix>.key, encrypted
with a password (COSIGN_PASSWORD or the terminal), and <prefix>.pub.`,
		Example: `  cosign-like import-key-pair --key existing.pem`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("reading key to import: %w", err)
			}
			priv, err := signer.ParsePrivateKeyPEM(data)
			if err != nil {
				return fmt.Errorf("importing %s: %w", keyPath, err)
			}
			if err := o.confirmOverwrite(cmd); err != nil {
				return err
			}
			password, err := keyPasswordFunc(cmd)(true)
			if err != nil {
				return err
			}
			return marshalAndWriteKeyPair(cmd, &o, priv, password)
		},
	}
	o.addFlags(cmd, "import-cosign")
	cmd.Flags().StringVarP(&keyPath, "key", "k", "", "PEM private key file to import")
	markRequired(cmd.Flags(), "key", "the PEM private key to import")
	return cmd
}

func newPublicKeyCmd() *cobra.Command {
	var (
		keyRef, outFile string
		tok             pkcs11Flags
	)
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Print the public key of a key (file, PKCS#11 URI or KMS reference) as PEM",
		Example: `  cosign-like public-key --key cosign.key
  cosign-like public-key --key 'pkcs11:token=signing;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so' --outfile release.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pub, err := signer.LoadPublicKey(ctx, keyRef, tok.interactiveSignerOptions(cmd)...)
			if errors.Is(err, signer.ErrPasswordRequired) {
				var s signer.Signer
				s, err = signer.LoadSigner(ctx, keyRef, keyPasswordFunc(cmd), tok.interactiveSignerOptions(cmd)...)
				if err == nil {
					pub = s.Public()
				}
			}
			if err != nil {
				return err
			}
			pemBytes, err := signer.MarshalPublicKeyPEM(pub)
			if err != nil {
				return err
			}
			if outFile == "" {
				_, err = cmd.OutOrStdout().Write(pemBytes)
				return err
			}
			if err := writeFileMode(outFile, pemBytes, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Public key written to %s\n", outFile)
			return nil
		},
	}
	cmd.Flags().StringVarP(&keyRef, "key", "k", "", "key: encrypted key file, public key file, pkcs11: URI or <kms>:// reference")
	markRequired(cmd.Flags(), "key", "a key file, PKCS#11 URI or KMS reference")
	cmd.Flags().StringVar(&outFile, "outfile", "", "write the public key to this file instead of stdout")
	tok.addPINFlag(cmd.Flags(), pinFlag)
	return boundInTime(cmd)
}
