//! Work over many independent items on several threads: parsing items of a
//! ResourceList ([`crate::krm`]) and reading Tekton items for a check
//! ([`crate::tekton::check`]). Small inputs stay on one thread, where spawning would
//! cost more than it saves.

/// Below this many items, one thread.
const MIN_PARALLEL: usize = 256;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `f` over `items`, in order, on several threads when there are many.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let per_chunk = |chunk: &[T]| chunk.iter().map(&f).collect::<Vec<R>>();
    chunks(items, &per_chunk).into_iter().flatten().collect()
}

/// `f` over chunks of `items` (one per thread), the results in order.
pub(crate) fn chunks<T: Sync, R: Send>(items: &[T], f: &(impl Fn(&[T]) -> R + Sync)) -> Vec<R> {
    // The small case first: asking for the parallelism reads cgroup files.
    if items.len() < MIN_PARALLEL {
        return vec![f(items)];
    }
    let threads = threads();
    if threads < 2 {
        return vec![f(items)];
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| scope.spawn(move || f(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
