//! rnn ops.
