//! Compressed sparse rows of one edge type, both directions, over the dense
//! indexes of its endpoint tables. Neighbour lists are sorted and
//! deduplicated: a match binds each pair of nodes once, however many
//! parallel edges join them.
//!
//! A view that follows writes: the rows are a base (built once, shared)
//! plus, for each node whose edges changed since, its whole new list in
//! both directions, and the change in each touched pair's edge count (so
//! removing one of two parallel edges keeps the pair). Cloning is cheap;
//! each table version gets its own immutable value.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::node_ids::PMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the edge's source to its target.
    Forward,
    /// From the target back to the source.
    Backward,
    /// Either way (`<edge>`): the union of both.
    Both,
}

impl Direction {
    /// The one or two directions to follow.
    pub fn parts(self) -> &'static [Direction] {
        match self {
            Direction::Forward => &[Direction::Forward],
            Direction::Backward => &[Direction::Backward],
            Direction::Both => &[Direction::Forward, Direction::Backward],
        }
    }
}

struct Csr {
    fwd_offsets: Vec<u32>,
    fwd: Vec<u32>,
    back_offsets: Vec<u32>,
    back: Vec<u32>,
    /// Pairs joined by more than one edge, and by how many.
    parallel: FxHashMap<(u32, u32), u32>,
}

type Lists = PMap<u32, Arc<[u32]>>;

#[derive(Clone)]
pub struct Adjacency {
    base: Arc<Csr>,
    fwd_patch: Lists,
    back_patch: Lists,
    /// Change in each touched pair's edge count since the base.
    counts: PMap<(u32, u32), i64>,
    /// The numberings (generations) of the source and target node ids.
    pub generations: (u64, u64),
}

fn slice<'a>(offsets: &[u32], list: &'a [u32], node: u32) -> &'a [u32] {
    let i = node as usize;
    if i + 1 >= offsets.len() {
        return &[];
    }
    &list[offsets[i] as usize..offsets[i + 1] as usize]
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
    /// Bytes held: the base arrays and the lists rewritten since.
    pub fn memory_size(&self) -> usize {
        let b = &self.base;
        let base = (b.fwd_offsets.capacity() + b.fwd.capacity() + b.back_offsets.capacity() + b.back.capacity()) * std::mem::size_of::<u32>()
            + b.parallel.capacity() * 16;
        let patched: usize = self.fwd_patch.values().chain(self.back_patch.values()).map(|l| l.len() * 4 + 48).sum();
        base + patched + self.counts.len() * 32
    }

    /// `pairs` are (source, target) dense indexes of one numbering each.
    pub fn build(sources: usize, targets: usize, pairs: &[(u32, u32)], generations: (u64, u64)) -> Adjacency {
        let (fwd_offsets, fwd) = csr(sources, pairs.iter().copied());
        let (back_offsets, back) = csr(targets, pairs.iter().map(|&(s, d)| (d, s)));
        let mut parallel = FxHashMap::default();
        if fwd.len() < pairs.len() {
            let mut seen: FxHashMap<(u32, u32), u32> = FxHashMap::default();
            for &p in pairs {
                *seen.entry(p).or_default() += 1;
            }
            parallel = seen.into_iter().filter(|(_, n)| *n > 1).collect();
        }
        Adjacency {
            base: Arc::new(Csr { fwd_offsets, fwd, back_offsets, back, parallel }),
            fwd_patch: Default::default(),
            back_patch: Default::default(),
            counts: Default::default(),
            generations,
        }
    }

    /// The distinct neighbours one way (`Both` is read as its two parts:
    /// see [`neighbours_any`](Adjacency::neighbours_any)).
    pub fn neighbours(&self, node: u32, dir: Direction) -> &[u32] {
        let (patch, off, list) = match dir {
            Direction::Forward | Direction::Both => (&self.fwd_patch, &self.base.fwd_offsets, &self.base.fwd),
            Direction::Backward => (&self.back_patch, &self.base.back_offsets, &self.base.back),
        };
        if !patch.is_empty()
            && let Some(l) = patch.get(&node)
        {
            return l;
        }
        slice(off, list, node)
    }

    /// The distinct neighbours of `node` in `dir` (either way for `Both`),
    /// ascending, into `out` (cleared first).
    pub fn neighbours_any(&self, node: u32, dir: Direction, out: &mut Vec<u32>) {
        out.clear();
        if dir != Direction::Both {
            out.extend_from_slice(self.neighbours(node, dir));
            return;
        }
        let (a, b) = (self.neighbours(node, Direction::Forward), self.neighbours(node, Direction::Backward));
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(&x), Some(&y)) if x == y => {
                    i += 1;
                    j += 1;
                    x
                }
                (Some(&x), Some(&y)) if x < y => {
                    i += 1;
                    x
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (_, Some(&y)) => {
                    j += 1;
                    y
                }
                (None, None) => break,
            };
            out.push(next);
        }
    }

    /// Whether an edge joins `s` to `d` in `dir`.
    pub fn joined(&self, s: u32, d: u32, dir: Direction) -> bool {
        dir.parts().iter().any(|p| self.neighbours(s, *p).binary_search(&d).is_ok())
    }

    /// How many edges join `s` to `d`.
    pub fn pair_count(&self, s: u32, d: u32) -> u64 {
        let b = &self.base;
        let in_base = if slice(&b.fwd_offsets, &b.fwd, s).binary_search(&d).is_ok() { b.parallel.get(&(s, d)).copied().unwrap_or(1) as i64 } else { 0 };
        (in_base + self.counts.get(&(s, d)).copied().unwrap_or(0)).max(0) as u64
    }

    /// How many edges leave `s` (parallel edges each count).
    pub fn out_degree(&self, s: u32) -> u64 {
        self.neighbours(s, Direction::Forward).iter().map(|&d| self.pair_count(s, d)).sum()
    }

    /// This adjacency after edges `removed` went and `added` came, each a
    /// (source, target) pair; costs the degree of the nodes they touch.
    pub fn apply(&self, removed: &[(u32, u32)], added: &[(u32, u32)]) -> Adjacency {
        let mut next = self.clone();
        for (pairs, delta) in [(removed, -1i64), (added, 1)] {
            for &(s, d) in pairs {
                let before = next.pair_count(s, d);
                if delta < 0 && before == 0 {
                    continue;
                }
                *next.counts.entry((s, d)).or_default() += delta;
                let after = next.pair_count(s, d);
                if (before == 0) != (after == 0) {
                    next.relist(Direction::Forward, s, d, after > 0);
                    next.relist(Direction::Backward, d, s, after > 0);
                }
            }
        }
        next
    }

    fn relist(&mut self, dir: Direction, node: u32, other: u32, present: bool) {
        let mut list = self.neighbours(node, dir).to_vec();
        match (list.binary_search(&other), present) {
            (Err(at), true) => list.insert(at, other),
            (Ok(at), false) => {
                list.remove(at);
            }
            _ => return,
        }
        let patch = if dir == Direction::Forward { &mut self.fwd_patch } else { &mut self.back_patch };
        patch.insert(node, Arc::from(list));
    }

    /// Nodes whose lists changed since the base.
    pub fn patch_len(&self) -> usize {
        self.fwd_patch.len() + self.back_patch.len()
    }

    /// The same adjacency with the changes since the base folded into a new
    /// base: costs a copy of the lists, not a rebuild from the table. Nodes
    /// past the old base's that no change touched have no edges, and need
    /// no room.
    pub fn rebased(&self) -> Adjacency {
        if self.patch_len() == 0 && self.counts.is_empty() {
            return self.clone();
        }
        let reach = |offsets: &[u32], patch: &Lists| patch.keys().map(|n| *n as usize + 1).max().unwrap_or(0).max(offsets.len().saturating_sub(1));
        let (sources, targets) = (reach(&self.base.fwd_offsets, &self.fwd_patch), reach(&self.base.back_offsets, &self.back_patch));
        let fold = |n: usize, dir: Direction| {
            let mut offsets = Vec::with_capacity(n + 1);
            let mut list = Vec::new();
            offsets.push(0u32);
            for i in 0..n as u32 {
                list.extend_from_slice(self.neighbours(i, dir));
                offsets.push(list.len() as u32);
            }
            (offsets, list)
        };
        let (fwd_offsets, fwd) = fold(sources, Direction::Forward);
        let (back_offsets, back) = fold(targets, Direction::Backward);
        let mut parallel = self.base.parallel.clone();
        for (&(s, d), _) in self.counts.iter() {
            match self.pair_count(s, d) {
                n if n > 1 => parallel.insert((s, d), n as u32),
                _ => parallel.remove(&(s, d)),
            };
        }
        Adjacency {
            base: Arc::new(Csr { fwd_offsets, fwd, back_offsets, back, parallel }),
            fwd_patch: Default::default(),
            back_patch: Default::default(),
            counts: Default::default(),
            generations: self.generations,
        }
    }

    /// This adjacency, derived from `from` by later writes, over the base
    /// of `onto` (`from` rebased): only the lists and pair counts changed
    /// since `from` stay apart. `None` if it does not descend from `from`.
    pub fn transplant(&self, from: &Adjacency, onto: &Adjacency) -> Option<Adjacency> {
        if !Arc::ptr_eq(&self.base, &from.base) || self.generations != from.generations || onto.generations != from.generations {
            return None;
        }
        let since = |now: &Lists, then: &Lists| -> Lists {
            now.iter().filter(|(n, l)| !then.get(*n).is_some_and(|t| Arc::ptr_eq(t, l))).map(|(n, l)| (*n, l.clone())).collect()
        };
        let counts = self.counts.iter().map(|(p, c)| (*p, c - from.counts.get(p).copied().unwrap_or(0))).filter(|(_, c)| *c != 0).collect();
        Some(Adjacency {
            base: onto.base.clone(),
            fwd_patch: since(&self.fwd_patch, &from.fwd_patch),
            back_patch: since(&self.back_patch, &from.back_patch),
            counts,
            generations: self.generations,
        })
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
                for part in dir.parts() {
                    for &m in self.neighbours(n, *part) {
                        if seen[m as usize] == 0 {
                            seen[m as usize] = 1;
                            next.push(m);
                        }
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

impl Adjacency {
    /// A shortest walk from `start` to each other node `want` admits, of
    /// `min..=max` edges (a node nearer than `min` is not matched; `start`
    /// itself only as the path of no edges, when `min` is 0), by
    /// breadth-first search; `target` stops the search once that node is
    /// found. Neighbours are visited in ascending order and the first
    /// parent found is kept, so the path chosen is deterministic. Each path
    /// is listed from `start`. `tick` is called per node expanded (the
    /// deadline) and may stop the search.
    pub fn shortest<E>(
        &self,
        start: u32,
        (min, max): (u32, u32),
        dir: Direction,
        target: Option<u32>,
        want: &dyn Fn(u32) -> bool,
        tick: &mut dyn FnMut() -> Result<(), E>,
    ) -> Result<Vec<Vec<u32>>, E> {
        let mut parent: FxHashMap<u32, u32> = FxHashMap::default();
        parent.insert(start, start);
        let mut found = Vec::new();
        let path = |parent: &FxHashMap<u32, u32>, end: u32| {
            let mut p = vec![end];
            let mut at = end;
            while at != start {
                at = parent[&at];
                p.push(at);
            }
            p.reverse();
            p
        };
        if min == 0 && want(start) && target.is_none_or(|t| t == start) {
            found.push(vec![start]);
            if target.is_some() {
                return Ok(found);
            }
        }
        let mut frontier = vec![start];
        let mut buf = Vec::new();
        for depth in 1..=max {
            let mut next = Vec::new();
            for &n in &frontier {
                tick()?;
                self.neighbours_any(n, dir, &mut buf);
                for &m in &buf {
                    if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                        e.insert(n);
                        next.push(m);
                        if depth >= min && want(m) && target.is_none_or(|t| t == m) {
                            found.push(path(&parent, m));
                            if target.is_some() {
                                return Ok(found);
                            }
                        }
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        Ok(found)
    }
}

impl Adjacency {
    /// Every shortest walk from `start` to each node `want` admits (the
    /// rules of [`shortest`](Adjacency::shortest)), holding at most `limit`
    /// nodes in all (`QueryTooLarge` past it: the count of shortest paths
    /// can grow exponentially with their length): a breadth-first search that keeps every
    /// parent one level up, then the walks back from each end, in
    /// ascending order of their nodes.
    #[allow(clippy::too_many_arguments)]
    pub fn all_shortest(
        &self,
        start: u32,
        (min, max): (u32, u32),
        dir: Direction,
        target: Option<u32>,
        want: &dyn Fn(u32) -> bool,
        tick: &mut dyn FnMut() -> crate::error::Result<()>,
        limit: usize,
    ) -> crate::error::Result<Vec<Vec<u32>>> {
        let mut depth: FxHashMap<u32, u32> = FxHashMap::default();
        let mut parents: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        depth.insert(start, 0);
        let mut ends = Vec::new();
        if min == 0 && want(start) && target.is_none_or(|t| t == start) {
            ends.push(start);
        }
        let mut frontier = vec![start];
        let mut buf = Vec::new();
        for d in 1..=max {
            if target.is_some_and(|t| depth.contains_key(&t)) {
                break;
            }
            let mut next = Vec::new();
            for &n in &frontier {
                tick()?;
                self.neighbours_any(n, dir, &mut buf);
                for &m in &buf {
                    match depth.get(&m) {
                        None => {
                            depth.insert(m, d);
                            parents.insert(m, vec![n]);
                            next.push(m);
                        }
                        Some(&dm) if dm == d => parents.get_mut(&m).expect("a node found at this depth has parents").push(n),
                        Some(_) => {}
                    }
                }
            }
            for &m in &next {
                if d >= min && want(m) && target.is_none_or(|t| t == m) {
                    ends.push(m);
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        let mut out = Vec::new();
        let mut held = 0usize;
        for end in ends {
            // Walk back from `end` through every parent: a stack of
            // (node, index of the next parent to try).
            let mut stack: Vec<(u32, usize)> = vec![(end, 0)];
            while let Some(&(node, i)) = stack.last() {
                if node == start {
                    out.push(stack.iter().rev().map(|(n, _)| *n).collect::<Vec<u32>>());
                    held += stack.len();
                    if held > limit {
                        return Err(crate::error::Error::QueryTooLarge { limit: limit as u64 });
                    }
                    stack.pop();
                    continue;
                }
                let ps = parents.get(&node).map(|p| p.as_slice()).unwrap_or_default();
                if i < ps.len() {
                    stack.last_mut().expect("non-empty").1 += 1;
                    stack.push((ps[i], 0));
                } else {
                    stack.pop();
                }
                tick()?;
            }
        }
        for p in &mut out {
            if p.len() > 1 && p[0] != start {
                p.reverse();
            }
        }
        out.sort();
        Ok(out)
    }
}
