//! Samples to block chunks and back: the one place that decides how blocks encode data.

use model::{Sample, Timestamp};

use crate::chunk::{COLD_CHUNK_SAMPLES, ENCODING_COLD, cold};

/// One encoded chunk ready for a block.
pub(crate) struct EncodedChunk {
    pub encoding: u8,
    pub min_t: Timestamp,
    pub max_t: Timestamp,
    pub samples: u32,
    pub data: Vec<u8>,
}

impl EncodedChunk {
    /// The writer's view of this chunk.
    pub(crate) fn input(&self) -> crate::block::ChunkInput<'_> {
        crate::block::ChunkInput {
            encoding: self.encoding,
            min_t: self.min_t,
            max_t: self.max_t,
            samples: self.samples,
            data: &self.data,
        }
    }
}

/// Encodes sorted, unique samples into block chunks: the cold encoding, which is written
/// once and read many times, in pieces of `COLD_CHUNK_SAMPLES` so that a query over a
/// short range decodes little.
pub(crate) fn encode(samples: &[Sample]) -> Vec<EncodedChunk> {
    samples
        .chunks(COLD_CHUNK_SAMPLES)
        .filter_map(|part| {
            let (first, last) = (part.first()?, part.last()?);
            let mut data = Vec::new();
            cold::encode(part, &mut data);
            Some(EncodedChunk {
                encoding: ENCODING_COLD,
                min_t: first.t,
                max_t: last.t,
                samples: part.len() as u32,
                data,
            })
        })
        .collect()
}

/// Merges sorted runs of samples into one sorted run; at a timestamp present in several,
/// the run listed first wins.
pub(crate) fn merge(runs: Vec<Vec<Sample>>) -> Vec<Sample> {
    let mut runs: Vec<Vec<Sample>> = runs.into_iter().filter(|r| !r.is_empty()).collect();
    match runs.len() {
        0 => return Vec::new(),
        1 => return runs.pop().unwrap_or_default(),
        _ => {}
    }
    let total = runs.iter().map(Vec::len).sum();
    let mut out: Vec<Sample> = Vec::with_capacity(total);
    let mut pos = vec![0usize; runs.len()];
    loop {
        // Few runs (head + a handful of blocks): a linear scan beats a heap.
        let mut best: Option<(usize, Timestamp)> = None;
        for (i, r) in runs.iter().enumerate() {
            if let Some(s) = r.get(pos[i])
                && best.is_none_or(|(_, t)| s.t < t)
            {
                best = Some((i, s.t));
            }
        }
        let Some((i, t)) = best else { break };
        out.push(runs[i][pos[i]]);
        for (j, r) in runs.iter().enumerate() {
            while r.get(pos[j]).is_some_and(|s| s.t == t) {
                pos[j] += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_first_run_at_equal_times() {
        let a = vec![Sample::new(1, 1.0), Sample::new(3, 3.0)];
        let b = vec![
            Sample::new(2, 20.0),
            Sample::new(3, 30.0),
            Sample::new(4, 40.0),
        ];
        let m = merge(vec![a, Vec::new(), b]);
        let got: Vec<(i64, f64)> = m.iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(got, vec![(1, 1.0), (2, 20.0), (3, 3.0), (4, 40.0)]);
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let samples: Vec<Sample> = (0..1000)
            .map(|i| Sample::new(i * 15_000, i as f64 * 0.1))
            .collect();
        let chunks = encode(&samples);
        let mut back = Vec::new();
        for c in &chunks {
            crate::chunk::decode_any(c.encoding, &c.data, &mut back).expect("decodes");
        }
        assert_eq!(back, samples);
        assert_eq!(
            chunks.iter().map(|c| c.samples as usize).sum::<usize>(),
            1000
        );
    }
}
