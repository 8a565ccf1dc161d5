package io.github.hookrelay;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Every item of a list, fetched page by page as the iteration reaches it (100 per page unless the filter says
 * otherwise). Each {@link #iterator()} starts again from the first page; a stream that stops early fetches no
 * further page.
 *
 * <pre>{@code
 * for (Webhook wh : hookrelay.webhooks().listAll(new Webhooks.Filter().status(WebhookStatus.ACTIVE))) { … }
 * hookrelay.events().listAll(new Events.Filter().type("invoice.paid")).stream().limit(10).forEach(…);
 * }</pre>
 */
public final class PagedIterable<T> implements Iterable<T> {
    private final int firstPage;
    private final IntFunction<Page<T>> fetch;

    PagedIterable(int firstPage, IntFunction<Page<T>> fetch) {
        this.firstPage = Math.max(firstPage, 1);
        this.fetch = fetch;
    }

    @Override
    public Iterator<T> iterator() {
        return new Iterator<>() {
            private int next = firstPage;
            private Iterator<T> current = null;
            private boolean last = false;

            @Override
            public boolean hasNext() {
                while (current == null || !current.hasNext()) {
                    if (last) return false;
                    Page<T> page = fetch.apply(next++);
                    last = !page.pagination().hasMore() || page.data().isEmpty();
                    current = page.data().iterator();
                }
                return true;
            }

            @Override
            public T next() {
                if (!hasNext()) throw new NoSuchElementException();
                return current.next();
            }
        };
    }

    public Stream<T> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED | Spliterator.NONNULL), false);
    }
}
