//! Compressed sparse rows of one edge type, both directions, over the dense
//! indexes of its endpoint tables. Neighbour lists are sorted and
//! deduplicated: a match binds each pair of nodes once, however many
//! parallel edges join them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the edge's source to its target.
    Forward,
    /// From the target back to the source.
    Backward,
}

pub struct Adjacency {
    fwd_offsets: Vec<u32>,
    fwd: Vec<u32>,
    back_offsets: Vec<u32>,
    back: Vec<u32>,
}

fn csr(n: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for (s, _) in pairs.clone() {
        offsets[s as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut targets = vec![0u32; offsets[n] as usize];
    for (s, d) in pairs {
        targets[fill[s as usize] as usize] = d;
        fill[s as usize] += 1;
    }
    // Sort and deduplicate each list, compacting in place.
    let mut out_offsets = vec![0u32; n + 1];
    let mut w = 0usize;
    for i in 0..n {
        let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
        targets[a..b].sort_unstable();
        let mut last = None;
        for r in a..b {
            let v = targets[r];
            if last != Some(v) {
                targets[w] = v;
                w += 1;
                last = Some(v);
            }
        }
        out_offsets[i + 1] = w as u32;
    }
    targets.truncate(w);
    (out_offsets, targets)
}

impl Adjacency {
    /// Bytes held by the four arrays.
    pub fn memory_size(&self) -> usize {
        (self.fwd_offsets.capacity() + self.fwd.capacity() + self.back_offsets.capacity() + self.back.capacity()) * std::mem::size_of::<u32>()
    }

    /// `pairs` are (source, target) dense indexes.
    pub fn build(sources: usize, targets: usize, pairs: &[(u32, u32)]) -> Adjacency {
        let (fwd_offsets, fwd) = csr(sources, pairs.iter().copied());
        let (back_offsets, back) = csr(targets, pairs.iter().map(|&(s, d)| (d, s)));
        Adjacency { fwd_offsets, fwd, back_offsets, back }
    }

    pub fn neighbours(&self, node: u32, dir: Direction) -> &[u32] {
        let (off, list) = match dir {
            Direction::Forward => (&self.fwd_offsets, &self.fwd),
            Direction::Backward => (&self.back_offsets, &self.back),
        };
        let i = node as usize;
        if i + 1 >= off.len() {
            return &[];
        }
        &list[off[i] as usize..off[i + 1] as usize]
    }

    /// Distinct nodes reachable from `start` by a walk of `min..=max` edges,
    /// appended to `out` in the order found. Each step expands a set of
    /// nodes (the frontier), so a cycle costs at most one visit per node per
    /// step; the walk stops after `max` steps, or earlier once the frontier
    /// repeats with a period of one or two steps (nothing new can appear).
    /// `seen` is a scratch buffer of the node count, all zero, left all zero.
    pub fn reach(&self, start: u32, min: u32, max: u32, dir: Direction, seen: &mut [u32], out: &mut Vec<u32>) {
        let mut emitted = rustc_hash::FxHashSet::default();
        if min == 0 {
            emitted.insert(start);
            out.push(start);
        }
        let mut frontier = vec![start];
        let mut previous: Option<Vec<u32>> = None;
        for step in 1..=max {
            let mut next = Vec::new();
            for &n in &frontier {
                for &m in self.neighbours(n, dir) {
                    if seen[m as usize] == 0 {
                        seen[m as usize] = 1;
                        next.push(m);
                    }
                }
            }
            for &m in &next {
                seen[m as usize] = 0;
            }
            if next.is_empty() {
                break;
            }
            next.sort_unstable();
            if step >= min {
                for &m in &next {
                    if emitted.insert(m) {
                        out.push(m);
                    }
                }
            }
            let period_one = step >= min && next == frontier;
            let period_two = step > min && previous.as_ref() == Some(&next);
            if period_one || period_two {
                break;
            }
            previous = Some(std::mem::replace(&mut frontier, next));
        }
    }
}
