package oidc

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loginPage is the dev issuer's identity picker, used by both the browser flow and the device
// flow. The typed-address button comes first: pressing Enter in the address field submits the
// form with the first submit button, which must be that one.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: cosign-like dev issuer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f6fb;margin:0;display:flex;justify-content:center}
main{background:#fff;margin-top:8vh;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;min-width:22rem}
h1{font-size:1.3rem;margin:0 0 .3rem}
p.note{color:#555;margin:.2rem 0 1.2rem;font-size:.9rem}
button{display:block;width:100%;margin:.4rem 0;padding:.7rem;border:1px solid #3456c8;border-radius:8px;background:#3f63e0;color:#fff;font-size:1rem;cursor:pointer}
input[type=email],input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;margin:.3rem 0;border:1px solid #bbb;border-radius:8px;font-size:1rem}
label{font-size:.85rem;color:#333}
.err{color:#b00020}
</style></head>
<body><main>
<h1>Sign in to the dev issuer</h1>
<p class="note">Local development only: pick the identity your token will name.</p>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .AskUserCode}}<label for="user_code">Code shown on your device</label>
<input type="text" id="user_code" name="user_code" value="{{.UserCode}}" required>{{end}}
<label for="other">Email address</label>
<input type="email" id="other" name="other" placeholder="carol@example.com">
<button type="submit" name="email" value="" id="other-submit">Continue with this address</button>
<p class="note">or pick an identity:</p>
{{range .Identities}}<button type="submit" name="email" value="{{.}}" class="identity">{{.}}</button>{{end}}
</form>
</main></body></html>
`))

type loginView struct {
	Action      string
	Hidden      map[string]string
	Identities  []string
	Error       string
	AskUserCode bool
	UserCode    string
}

func (d *DevIssuer) render(w http.ResponseWriter, code int, v loginView) {
	v.Identities = d.opts.Identities
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:* http://[::1]:*")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	_ = loginPage.Execute(w, v)
}

// authParams are the authorization request parameters carried through the login form.
var authParams = []string{"client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "response_type", "scope"}

// checkAuthRequest validates an authorization request: response_type code, PKCE S256, and a
// loopback http redirect URI (this issuer only serves local clients).
func checkAuthRequest(q url.Values) string {
	switch {
	case q.Get("response_type") != "code":
		return "response_type must be code"
	case q.Get("client_id") == "":
		return "client_id is required"
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		return "PKCE with code_challenge_method S256 is required"
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return "redirect_uri must be an http URL on a loopback address"
	}
	return ""
}

func (d *DevIssuer) handleAuthPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if msg := checkAuthRequest(q); msg != "" {
		http.Error(w, "invalid authorization request: "+msg, http.StatusBadRequest)
		return
	}
	hidden := map[string]string{}
	for _, k := range authParams {
		hidden[k] = q.Get(k)
	}
	d.render(w, http.StatusOK, loginView{Action: d.prefix + DevAuthPath, Hidden: hidden})
}

// pickedEmail is the identity chosen on the login form.
func pickedEmail(r *http.Request) string {
	email := r.PostForm.Get("email")
	if email == "" {
		email = strings.TrimSpace(r.PostForm.Get("other"))
	}
	return email
}

func (d *DevIssuer) handleAuthPick(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	if msg := checkAuthRequest(f); msg != "" {
		http.Error(w, "invalid authorization request: "+msg, http.StatusBadRequest)
		return
	}
	email := pickedEmail(r)
	if !validEmail(email) {
		hidden := map[string]string{}
		for _, k := range authParams {
			hidden[k] = f.Get(k)
		}
		d.render(w, http.StatusBadRequest, loginView{Action: d.prefix + DevAuthPath, Hidden: hidden,
			Error: "Pick an identity or type a valid email address."})
		return
	}
	code := randomString(24)
	d.mu.Lock()
	d.gc()
	d.codes[code] = &authCode{clientID: f.Get("client_id"), redirectURI: f.Get("redirect_uri"),
		challenge: f.Get("code_challenge"), nonce: f.Get("nonce"), email: email,
		expires: d.opts.Now().Add(2 * time.Minute)}
	d.mu.Unlock()
	u, _ := url.Parse(f.Get("redirect_uri"))
	q := u.Query()
	q.Set("code", code)
	if s := f.Get("state"); s != "" {
		q.Set("state", s)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (d *DevIssuer) handleVerifyPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, http.StatusOK, loginView{Action: d.prefix + DevVerifyPath, AskUserCode: true,
		UserCode: r.URL.Query().Get("user_code")})
}

func (d *DevIssuer) handleVerifyPick(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("user_code")))
	email := pickedEmail(r)
	view := loginView{Action: d.prefix + DevVerifyPath, AskUserCode: true, UserCode: user}
	if !validEmail(email) {
		view.Error = "Pick an identity or type a valid email address."
		d.render(w, http.StatusBadRequest, view)
		return
	}
	d.mu.Lock()
	g := d.devices[d.users[user]]
	if g != nil && !d.opts.Now().After(g.expires) {
		g.email, g.approved = email, true
	}
	d.mu.Unlock()
	if g == nil {
		view.Error = "Unknown or expired code."
		d.render(w, http.StatusBadRequest, view)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!doctype html><title>Signed in</title><p id=\"done\">Signed in as " +
		template.HTMLEscapeString(email) + ". You can close this window.</p>"))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	return strings.HasPrefix(host, "127.") || host == "::1"
}
