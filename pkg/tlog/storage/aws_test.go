package storage

import "testing"

func TestParseAWS(t *testing.T) {
	spec := "aws://?db=root%40tcp%28127.0.0.1%3A3306%29%2Ftlog&bucket=b&prefix=p&endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=r&path-style=true"
	s, err := ParseAWS(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := AWSSpec{DSN: "root@tcp(127.0.0.1:3306)/tlog", Bucket: "b", Prefix: "p", Endpoint: "http://127.0.0.1:9000", Region: "r", PathStyle: true}
	if s != want {
		t.Fatalf("parsed %+v, want %+v", s, want)
	}
	if again, err := ParseAWS(s.String()); err != nil || again != want {
		t.Fatalf("%s parses as %+v, %v; want %+v", s.String(), again, err, want)
	}
}
