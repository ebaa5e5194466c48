// Package limitio reads input of bounded size: input longer than its limit is a TooLargeError
// naming the limit, never a silently truncated read.
package limitio
