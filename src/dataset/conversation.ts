/** What every dataset format turns its entries into. */
export interface Conversation {
  /** The user's messages, in order (one for a single-turn prompt). */
  userTurns: string[];
  /** For each user turn, the reference answer's text when the dataset has one. */
  answers: (string | null)[];
  /** For each user turn, an output length the dataset fixes (JSONL `output_len`), else null. */
  outputLens: (number | null)[];
}

/** A dataset: entries addressed by index, parsed only when they are sampled. */
export interface DatasetSource {
  /** For messages: the file path, or "synthetic". */
  readonly name: string;
  readonly size: number;
  /** The conversation at `index`, or null when that entry has no usable user turn. */
  conversation(index: number): Conversation | null;
}
