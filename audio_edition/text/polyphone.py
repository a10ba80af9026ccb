"""The polyphone model: g2pM's BiLSTM (kakaobrain, Apache-2.0; weights shipped in its wheel).

g2pM's own `G2pM.__call__` runs one sentence at a time and returns only its best class, which
may not even be a reading of the character. We load its weights through G2pM and run the same
network here on a batch of sentences at once (one LSTM step per character position for the
whole batch), returning for each asked position the probability of each of the character's own
readings: what the g2p stage needs to choose among them and to say how sure it is.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from audio_edition.text.syllables import readings

BATCH = 64  # sentences per forward pass: bounds memory, amortises the per-step numpy overhead


class PolyphoneModel:
    """g2pM's one-layer BiLSTM with its two-layer classifier, batched."""

    def __init__(self) -> None:
        from g2pM import G2pM

        g2pm = G2pM()
        self.char_ids = g2pm.char2idx
        self.unk, self.bos, self.eos = (self.char_ids[t] for t in ("<UNK>", "시", "끝"))
        # Each character's input to the LSTM gates, computed once: a lookup per step, not a
        # matrix product per sentence.
        self.forward_inputs = g2pm.embeddings @ g2pm.weight_ih.T + g2pm.bias_ih + g2pm.bias_hh
        self.forward_hidden = np.ascontiguousarray(g2pm.weight_hh.T)
        self.backward_inputs = (
            g2pm.embeddings @ g2pm.weight_ih_reverse.T + g2pm.bias_ih_reverse + g2pm.bias_hh_reverse
        )
        self.backward_hidden = np.ascontiguousarray(g2pm.weight_hh_reverse.T)
        self.hidden = (g2pm.hidden_weight_l0.T, g2pm.hidden_bias_l0)
        self.output = (g2pm.hidden_weight_l1.T, g2pm.hidden_bias_l1)
        self.class_of = {pron.replace("u:", "v"): i for i, pron in g2pm.idx2class.items()}
        # The characters it was trained to disambiguate: polyphones of its own dictionary.
        self.trained = {c: {p.replace("u:", "v") for p in ps} for c, ps in g2pm.cedict.items()}

    def choices(self, char: str) -> tuple[tuple[str, ...], list[int]]:
        """The readings of `char` the model can tell apart, and their class indices (none when
        its training dictionary gives the character one reading: its scores mean nothing)."""
        trained = self.trained.get(char, set())
        if len(trained) < 2:
            return (), []
        known = tuple(r for r in readings(char) if r in self.class_of and r in trained)
        return known, [self.class_of[r] for r in known]

    def probabilities(
        self, sentences: Sequence[str], positions: Sequence[Sequence[int]]
    ) -> list[list[dict[str, float]]]:
        """For each sentence, for each asked position: {reading: probability} over the
        character's readings (empty when the model knows fewer than two of them)."""
        out: list[list[dict[str, float]]] = [[] for _ in sentences]
        asked = [i for i, p in enumerate(positions) if p]
        asked.sort(key=lambda i: len(sentences[i]))  # similar lengths batch with little padding
        for start in range(0, len(asked), BATCH):
            batch = asked[start : start + BATCH]
            logits = self._logits([sentences[i] for i in batch], [positions[i] for i in batch])
            for row, i in enumerate(batch):
                out[i] = [
                    self._spread(sentences[i][k], scores)
                    for k, scores in zip(positions[i], logits[row], strict=True)
                ]
        return out

    def _spread(self, char: str, logits: np.ndarray) -> dict[str, float]:
        known, classes = self.choices(char)
        if len(known) < 2:
            return {}
        scores = logits[classes]
        weights = np.exp(scores - scores.max())
        return dict(zip(known, (weights / weights.sum()).tolist(), strict=True))

    def _logits(self, sentences: list[str], positions: list[Sequence[int]]) -> list[np.ndarray]:
        """Class scores at the given positions of each sentence (BOS/EOS framed, as trained)."""
        ids = [
            [self.bos, *(self.char_ids.get(c, self.unk) for c in s), self.eos] for s in sentences
        ]
        width = max(map(len, ids))
        forward = np.zeros((len(ids), width), np.int64)
        backward = np.zeros((len(ids), width), np.int64)
        for row, seq in enumerate(ids):
            forward[row, : len(seq)] = seq
            backward[row, : len(seq)] = seq[::-1]
        ahead = _lstm(self.forward_inputs[forward], self.forward_hidden)
        behind = _lstm(self.backward_inputs[backward], self.backward_hidden)
        rows = np.array([row for row, ks in enumerate(positions) for _ in ks])
        # position k of the sentence is step k + 1 (after BOS) ahead, step n - 2 - k behind
        ahead_at = np.array([k + 1 for ks in positions for k in ks])
        behind_at = np.array(
            [len(ids[row]) - 2 - k for row, ks in enumerate(positions) for k in ks]
        )
        states = np.concatenate([ahead[rows, ahead_at], behind[rows, behind_at]], axis=1)
        hidden = np.maximum(states @ self.hidden[0] + self.hidden[1], 0.0)
        scores = hidden @ self.output[0] + self.output[1]
        counts = np.cumsum([len(ks) for ks in positions])[:-1]
        return np.split(scores, counts)


def _lstm(projected: np.ndarray, w_hidden: np.ndarray) -> np.ndarray:
    """A PyTorch-layout LSTM (gates i, f, g, o) over inputs already projected to the gates,
    [batch, time, 4 * size]; padding at the end of a row never reaches its real positions."""
    batch, steps, _ = projected.shape
    size = w_hidden.shape[0]
    h = np.zeros((batch, size), np.float32)
    c = np.zeros((batch, size), np.float32)
    states = np.empty((batch, steps, size), np.float32)
    for t in range(steps):
        gates = projected[:, t] + h @ w_hidden
        i, f = _sigmoid(gates[:, :size]), _sigmoid(gates[:, size : 2 * size])
        g, o = np.tanh(gates[:, 2 * size : 3 * size]), _sigmoid(gates[:, 3 * size :])
        c = f * c + i * g
        h = o * np.tanh(c)
        states[:, t] = h
    return states


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@functools.cache
def shared_model() -> PolyphoneModel:
    """The model, loaded once per process (about 0.1 s)."""
    return PolyphoneModel()
