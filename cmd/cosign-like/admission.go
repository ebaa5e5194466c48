package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/admission"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
)

func init() { addCommand(newAdmissionCmd) }

func newAdmissionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Kubernetes admission webhook enforcing ClusterImagePolicy documents",
	}
	cmd.AddCommand(newAdmissionInitCmd(), newAdmissionServeCmd(), newAdmissionTestCmd())
	return cmd
}

// admissionPolicyOptions are the flags that say what is enforced and how images are verified.
type admissionPolicyOptions struct {
	policies    string
	trust       trustOptions
	trustRoots  []string
	registry    registryOptions
	noMatch     string
	budget      time.Duration
	cacheTTL    time.Duration
	concurrency int
}

func (o *admissionPolicyOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.policies, "policies", "", "directory of ClusterImagePolicy YAML files (required)")
	o.trust.addFlags(fs)
	fs.StringArrayVar(&o.trustRoots, "trust-root", nil, "NAME=FILE: a trusted root JSON that policies name by trustRootRef (repeatable)")
	o.registry.addFlags(fs)
	fs.StringVar(&o.noMatch, "no-match", string(admission.NoMatchDeny), "what happens to an image no policy matches: allow, warn or deny")
	fs.DurationVar(&o.budget, "budget", admission.DefaultBudget, "time one admission request (or one test run) may take, registry retries included")
	fs.DurationVar(&o.cacheTTL, "cache-ttl", admission.DefaultCacheTTL, "how long a passed verification is remembered (0: no cache)")
	fs.IntVar(&o.concurrency, "concurrency", admission.DefaultConcurrency, "images verified at once")
}

// load reads the policies and the trust material (--trusted-root, the TrustRoot documents
// among the policies, fetched into tufCache, and --trust-root) and makes the decider's options.
func (o *admissionPolicyOptions) load(ctx context.Context, tufCache string) ([]*policy.ClusterImagePolicy, admission.DeciderOptions, error) {
	var d admission.DeciderOptions
	docs, err := policy.LoadDir(o.policies)
	if err != nil {
		return nil, d, err
	}
	if len(docs.Policies) == 0 {
		return nil, d, fmt.Errorf("--policies %s: no ClusterImagePolicy in *.yaml or *.yml files", o.policies)
	}
	if d.NoMatch, err = admission.ParseNoMatch(o.noMatch); err != nil {
		return nil, d, fmt.Errorf("--no-match %w", err)
	}
	if d.Trust.Default, err = loadTrustedRoot(ctx, o.trust.trustedRoot, false); err != nil {
		return nil, d, err
	}
	if d.Trust.Named, err = admission.FetchTrustRoots(ctx, docs.TrustRoots, tufCache); err != nil {
		return nil, d, err
	}
	for _, tr := range o.trustRoots {
		name, file, ok := strings.Cut(tr, "=")
		if !ok || name == "" || file == "" {
			return nil, d, fmt.Errorf("--trust-root %q: want NAME=FILE", tr)
		}
		if _, dup := d.Trust.Named[name]; dup {
			return nil, d, fmt.Errorf("--trust-root %s: a TrustRoot document of --policies has that name too", name)
		}
		if d.Trust.Named[name], err = loadTrustedRoot(ctx, file, true); err != nil {
			return nil, d, fmt.Errorf("--trust-root %s: %w", name, err)
		}
	}
	if d.Registry, err = o.registry.ociOptions(); err != nil {
		return nil, d, err
	}
	d.InsecureRegistry = o.registry.allowInsecure
	d.CacheTTL, d.Concurrency = o.cacheTTL, o.concurrency
	if o.cacheTTL <= 0 {
		d.CacheTTL = -1 // none
	}
	return docs.Policies, d, nil
}

func newAdmissionInitCmd() *cobra.Command {
	var dir string
	var opts admission.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the webhook's serving key and certificate, its webhook configuration and an example deployment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := admission.Init(cmd.Context(), dir, opts); err != nil {
				return fmt.Errorf("admission init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "admission webhook for %s created in %s (webhook configuration: %s, example deployment: %s)\n",
				opts.Service, dir, admission.WebhookConfigFile, admission.DeploymentFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory to create (required)")
	cmd.Flags().StringVar(&opts.Service, "service", "", "the webhook's Kubernetes service, NAME.NAMESPACE (required)")
	cmd.Flags().StringVar(&opts.Image, "image", "", "container image of the example deployment")
	markRequired(cmd.Flags(), "dir", "the state directory to create")
	markRequired(cmd.Flags(), "service", "the webhook's service, NAME.NAMESPACE")
	return cmd
}

func newAdmissionServeCmd() *cobra.Command {
	var o serverOptions
	var p admissionPolicyOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the admission webhook over HTTPS (POST /mutate, POST /validate)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			tufCache := filepath.Join(o.dir, "trust-roots")
			docs, dopts, err := p.load(cmd.Context(), tufCache)
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			s, err := admission.Open(cmd.Context(), o.dir, admission.Options{Policies: docs, Decider: dopts, Budget: p.budget, Logger: logger})
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			logger.Info("policies loaded", "policies", s.Decider().Policies())
			reloadOnHangup(cmd.Context(), logger, s, func(ctx context.Context) ([]*policy.ClusterImagePolicy, admission.DeciderOptions, error) {
				return p.load(ctx, tufCache)
			})
			// A response may take the whole budget: the write limit leaves room beyond it.
			timeouts := httpserver.Timeouts{Write: max(httpserver.WriteTimeout, p.budget+10*time.Second)}
			return runServers(cmd, httpserver.RunOptions{Logger: logger},
				httpserver.Service{Name: "admission webhook", Addr: o.addr, Server: s, TLS: s.TLSConfig(), Timeouts: timeouts})
		},
	}
	o.bind(cmd, "127.0.0.1:8443")
	p.addFlags(cmd.Flags())
	markRequired(cmd.Flags(), "policies", "the directory of ClusterImagePolicy files")
	return cmd
}

// reloadOnHangup reads the policies and trust material again at each SIGHUP, until ctx ends; when
// they cannot be used, the error is logged and the policies in force stay.
func reloadOnHangup(ctx context.Context, logger *slog.Logger, s *admission.Server,
	load func(context.Context) ([]*policy.ClusterImagePolicy, admission.DeciderOptions, error)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			docs, dopts, err := load(ctx)
			if err == nil {
				err = s.Reload(ctx, docs, dopts)
			}
			if err != nil {
				logger.Error("policies not reloaded: the policies in force stay", "error", err.Error())
				continue
			}
			logger.Info("policies reloaded", "policies", s.Decider().Policies())
		}
	}()
}

// workloadKinds are the kinds admission test can judge images as, with their API versions.
var workloadKinds = map[string]string{"Pod": "v1", "Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1",
	"DaemonSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1"}

func newAdmissionTestCmd() *cobra.Command {
	var p admissionPolicyOptions
	var kind string
	var labels []string
	cmd := &cobra.Command{
		Use:   "test IMAGE...",
		Short: "Decide about images as the webhook would, without a cluster: allow, warn or deny with reasons",
		Long: "Decide about images as the webhook would, without a cluster: each image (a tag is first pinned to its digest,\n" +
			"as the mutating webhook does) is judged as a container image of a resource of --kind with --label labels.\n" +
			"It prints allow, warn or deny for each, and fails when any is denied.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiVersion, ok := workloadKinds[kind]
			if !ok {
				return fmt.Errorf("--kind %q: want Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob", kind)
			}
			obj := admission.Object{Resource: policy.Resource{APIVersion: apiVersion, Kind: kind, Labels: map[string]string{}}}
			for _, l := range labels {
				k, v, ok := strings.Cut(l, "=")
				if !ok || k == "" {
					return fmt.Errorf("--label %q: want KEY=VALUE", l)
				}
				obj.Resource.Labels[k] = v
			}
			tufCache, err := os.MkdirTemp("", "cosign-like-trust-roots-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tufCache)
			docs, dopts, err := p.load(cmd.Context(), tufCache)
			if err != nil {
				return fmt.Errorf("admission test: %w", err)
			}
			d, err := admission.NewDecider(cmd.Context(), docs, dopts)
			if err != nil {
				return fmt.Errorf("admission test: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.budget)
			defer cancel()
			return runAdmissionTest(cmd, ctx, d, obj, args)
		},
	}
	p.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&kind, "kind", "Pod", "kind of the resource the images are judged in (for spec.match)")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "KEY=VALUE: a label of that resource (repeatable)")
	markRequired(cmd.Flags(), "policies", "the directory of ClusterImagePolicy files")
	return cmd
}

// runAdmissionTest pins tags, decides, and prints one line per image, then the reasons.
func runAdmissionTest(cmd *cobra.Command, ctx context.Context, d *admission.Decider, obj admission.Object, refs []string) error {
	out := cmd.OutOrStdout()
	images := make([]admission.Image, len(refs))
	for i, ref := range refs {
		pinned, err := d.Resolve(ctx, ref)
		if err != nil {
			pinned = ref // refused below as a tag
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", ref, err)
		}
		images[i] = admission.Image{Ref: pinned}
	}
	denied := 0
	for _, v := range d.Decide(ctx, obj, images) {
		switch {
		case !v.Allowed:
			denied++
			fmt.Fprintf(out, "deny %s\n", v.Ref)
		case len(v.Warnings) > 0:
			fmt.Fprintf(out, "warn %s\n", v.Ref)
		default:
			fmt.Fprintf(out, "allow %s\n", v.Ref)
		}
		for _, r := range append(v.Denials, v.Warnings...) {
			fmt.Fprintf(out, "  %s\n", strings.ReplaceAll(r, "\n", "\n  "))
		}
	}
	if denied > 0 {
		return fmt.Errorf("admission test: %d of %d images denied", denied, len(images))
	}
	return nil
}
