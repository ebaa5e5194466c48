// Package certext encodes and parses the Fulcio certificate extensions
// (OID arc 1.3.6.1.4.1.57264.1) exactly as Fulcio renders them.
package certext
