"""keras.io's "Text classification with Transformer" (tf.keras version), its model code
as the example writes it -- with tf.shape(x)[-1] and tf.range as x.shape[-1] and
np.arange -- on a small synthetic token data set: it builds, summarises, trains
2 epochs with a falling loss, and saves and loads.
"""

import numpy as np

import minidl
from minidl import keras
from minidl.keras import layers


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = x.shape[-1]
        positions = np.arange(0, maxlen)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def token_data(count, maxlen, vocab_size, rng):
    """Sequences of word indices; label 1 when word 1 ("good") is in the sequence."""
    x = rng.integers(2, vocab_size, (count, maxlen))
    y = rng.integers(0, 2, count)
    where = rng.integers(0, maxlen, count)
    x[y == 1, where[y == 1]] = 1
    return x, y


def test_text_classification_with_transformer(tmp_path):
    minidl.utils.set_random_seed(0)
    vocab_size, maxlen = 50, 12
    rng = np.random.default_rng(0)
    x_train, y_train = token_data(256, maxlen, vocab_size, rng)
    x_val, y_val = token_data(64, maxlen, vocab_size, rng)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line.rstrip() for line in lines]  # the counts tf_keras 2.21 prints
    assert " token_and_position_embeddi  (None, 12, 32)            1984" in rows
    assert " transformer_block (Transfo  (None, 12, 32)            10656" in rows
    assert "Total params: 13,342" in rows  # (minidl writes the totals with separators)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val), verbose=0
    )
    assert history.history["loss"][1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}

    predicted = model.predict(x_val, verbose=0)
    assert predicted.shape == (64, 2)
    model.save(tmp_path / "transformer.mdl")
    loaded = keras.models.load_model(tmp_path / "transformer.mdl", custom_objects={
        "TransformerBlock": TransformerBlock,
        "TokenAndPositionEmbedding": TokenAndPositionEmbedding})
    np.testing.assert_allclose(loaded.predict(x_val, verbose=0), predicted, atol=1e-6)
