package certext_test

import (
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/certext"
)

func ExampleExtensions_Render() {
	exts, err := certext.Extensions{
		Issuer:   "https://token.actions.githubusercontent.com",
		IssuerV2: "https://token.actions.githubusercontent.com",
	}.Render()
	if err != nil {
		panic(err)
	}
	for _, e := range exts {
		fmt.Printf("%s %x...\n", e.Id, e.Value[:4])
	}
	parsed, err := certext.ParseExtensions(exts)
	if err != nil {
		panic(err)
	}
	fmt.Println(parsed.OIDCIssuer())
	// Output:
	// 1.3.6.1.4.1.57264.1.1 68747470...
	// 1.3.6.1.4.1.57264.1.8 0c2b6874...
	// https://token.actions.githubusercontent.com
}
