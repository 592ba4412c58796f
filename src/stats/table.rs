//! A map from encoded label tuples to values that remembers insertion order, as Python dicts do:
//! dumps list label sets in the order they first appeared.
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Table<V> {
    index: HashMap<Vec<u8>, usize>,
    entries: Vec<(Vec<u8>, V)>,
}

impl<V> Table<V> {
    pub fn new() -> Self {
        Table {
            index: HashMap::new(),
            entries: Vec::new(),
        }
    }

    /// The value for `key`, made with `make` the first time (the key is copied only then).
    pub fn entry(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V {
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.entries.push((key.to_vec(), make()));
                self.index.insert(key.to_vec(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Vec<u8>, V)> {
        self.entries.iter()
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
    }
}
