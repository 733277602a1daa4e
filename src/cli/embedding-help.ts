/** Help text of every `--embedding` option. */
export const EMBEDDING_HELP =
  'the embedding the bundle was trained with: JSON (\'{"provider":"table","file":"vectors.h5"}\'), a JSON/YAML file, or a provider name; default: rebuilt from the bundle (hashing, onehot)';
