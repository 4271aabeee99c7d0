//! The rows of one edge type as a graph of edges, for edge variables
//! (`$a $k:knows $b`): each edge's two ends as dense node indexes, and for
//! each node the edges leaving and entering it (parallel edges each
//! listed). Built from the edge table's `src` and `dst` columns (views that
//! follow writes) and the endpoint types' ids; kept in the graph's table
//! cache per table version and numbering.

use super::node_ids::NodeIds;

/// No node: an edge whose end does not resolve (or a dead edge).
pub const NONE: u32 = u32::MAX;

pub struct EdgeIndex {
    /// Per edge (its dense index in the edge table's numbering).
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    out_offsets: Vec<u32>,
    out: Vec<u32>,
    in_offsets: Vec<u32>,
    inc: Vec<u32>,
    /// The numberings of the edge ids, the source and the target ids.
    pub generations: (u64, u64, u64),
}

fn group(n: usize, ends: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for &x in ends {
        if x != NONE {
            offsets[x as usize + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut list = vec![0u32; offsets[n] as usize];
    for (e, &x) in ends.iter().enumerate() {
        if x != NONE {
            list[fill[x as usize] as usize] = e as u32;
            fill[x as usize] += 1;
        }
    }
    (offsets, list)
}

fn slice<'a>(offsets: &[u32], list: &'a [u32], node: u32) -> &'a [u32] {
    let i = node as usize;
    if i + 1 >= offsets.len() {
        return &[];
    }
    &list[offsets[i] as usize..offsets[i + 1] as usize]
}

impl EdgeIndex {
    /// `ends(e)` gives the (source id, target id) of live edge `e`.
    pub fn build<'a>(edges: &NodeIds, from: &NodeIds, to: &NodeIds, ends: impl Fn(usize) -> Option<(&'a str, &'a str)>) -> EdgeIndex {
        let n = edges.len();
        let (mut src, mut dst) = (vec![NONE; n], vec![NONE; n]);
        for e in edges.live() {
            if let Some((s, d)) = ends(e as usize)
                && let (Some(s), Some(d)) = (from.dense(s), to.dense(d))
            {
                src[e as usize] = s;
                dst[e as usize] = d;
            }
        }
        let (out_offsets, out) = group(from.len(), &src);
        let (in_offsets, inc) = group(to.len(), &dst);
        EdgeIndex { src, dst, out_offsets, out, in_offsets, inc, generations: (edges.generation(), from.generation(), to.generation()) }
    }

    /// Edges leaving `node`, ascending.
    pub fn leaving(&self, node: u32) -> &[u32] {
        slice(&self.out_offsets, &self.out, node)
    }

    /// Edges entering `node`, ascending.
    pub fn entering(&self, node: u32) -> &[u32] {
        slice(&self.in_offsets, &self.inc, node)
    }

    /// The ends of edge `e`, if it is live and both ends exist.
    pub fn ends(&self, e: u32) -> Option<(u32, u32)> {
        let (s, d) = (*self.src.get(e as usize)?, *self.dst.get(e as usize)?);
        (s != NONE && d != NONE).then_some((s, d))
    }

    pub fn memory_size(&self) -> usize {
        (self.src.capacity() + self.dst.capacity() + self.out_offsets.capacity() + self.out.capacity() + self.in_offsets.capacity() + self.inc.capacity()) * 4
    }
}
