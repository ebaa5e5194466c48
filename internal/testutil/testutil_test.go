package testutil

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRegistriesAnswerAndCount(t *testing.T) {
	host, counter := NewRegistry(t)
	dist := StartDistribution(t)
	proxy, pc := CountingProxy(t, dist)
	for _, tt := range []struct {
		host    string
		counter *RequestCounter
	}{{host, counter}, {proxy, pc}} {
		tt.counter.Reset()
		if code, _ := get(t, "http://"+tt.host+"/v2/"); code != http.StatusOK {
			t.Fatalf("GET /v2/ on %s = %d", tt.host, code)
		}
		d := PushRandomImage(t, tt.host, "t/img")
		if code, _ := get(t, "http://"+tt.host+"/v2/t/img/manifests/"+d.DigestStr()); code != http.StatusOK {
			t.Fatalf("pushed image %s not found", d)
		}
		if tt.counter.Count() < 3 || tt.counter.Requests()[0] != "GET /v2/" || tt.counter.CountMatching("GET /v2/t/img/manifests/") != 1 {
			t.Fatalf("counter recorded %v", tt.counter.Requests())
		}
	}
}

func TestHostileRules(t *testing.T) {
	host, counter := NewHostileRegistry(t,
		Rule{Method: http.MethodGet, PathContains: "/flaky/", Handle: FailFirst(2, http.StatusServiceUnavailable)},
		Rule{Method: http.MethodGet, PathContains: "/many/", Handle: ServeManyReferrers(3)},
	)
	for i, want := range []int{503, 503, 404} {
		if code, _ := get(t, "http://"+host+"/v2/flaky/manifests/x"); code != want {
			t.Fatalf("request %d = %d, want %d", i, code, want)
		}
	}
	_, body := get(t, "http://"+host+"/v2/many/referrers/sha256:"+strings.Repeat("a", 64))
	if n := strings.Count(body, `"artifactType"`); n != 3 {
		t.Fatalf("referrers list has %d entries, want 3: %s", n, body)
	}
	if counter.Count() != 4 {
		t.Fatalf("counted %d requests, want 4", counter.Count())
	}
}
