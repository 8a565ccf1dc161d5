package hookrelay

import (
	"context"
	"iter"
)

// all iterates over every item of a list, page after page (100 per page unless opts say otherwise), starting
// at the page opts name. It stops at the first error, which it yields.
func all[T any](ctx context.Context, opts *ListOptions, list func(ListOptions) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		lo := ListOptions{Page: 1, PerPage: 100}
		if opts != nil {
			lo.Page, lo.PerPage = max(opts.Page, 1), cmpOr(opts.PerPage, 100)
		}
		for {
			page, err := list(lo)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !page.Pagination.HasMore || len(page.Data) == 0 || ctx.Err() != nil {
				if err := ctx.Err(); err != nil {
					var zero T
					yield(zero, err)
				}
				return
			}
			lo.Page++
		}
	}
}

func cmpOr(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}
