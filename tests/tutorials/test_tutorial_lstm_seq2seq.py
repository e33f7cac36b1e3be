"""keras.io example "Character-level recurrent sequence-to-sequence model" (fchollet,
keras-team/keras-io examples/nlp/lstm_seq2seq.py, the tf.keras version of 2020/04/26),
ported with names changed only.

``from tensorflow import keras`` -> ``from minidl import keras``.  The English-French
pairs of manythings.org (``fra.txt``, 10,000 pairs used) -> 40 made-up pairs written
to ``fra.txt`` in the same tab-separated layout (English, French, attribution).
Sizes scaled down so the test runs in seconds: ``latent_dim`` 256 -> 64, ``epochs``
100 -> 150, ``batch_size`` 64 -> 4.  The prints are asserted instead: the training
accuracy rises, the model reloaded from ``model.save("s2s")`` predicts as the trained
one, and the inference models rebuilt from the loaded model's layers decode training
sentences back into their French.
"""

import numpy as np

from minidl import keras

ENGLISH = ["Go.", "Hi.", "Run!", "Wow!", "Fire!", "Help!", "Stop!", "Wait!", "I see.",
           "I try.", "I won!", "Smile.", "Attack!", "Cheers!", "Get up.", "Got it!",
           "Hop in.", "Hug me.", "I fell.", "I know.", "I left.", "I lied.", "I lost.",
           "I'm 19.", "I'm OK.", "Listen.", "No way!", "Really?", "Thanks.", "We try.",
           "Ask Tom.", "Be calm.", "Be fair.", "Be kind.", "Beat it.", "Call me.",
           "Come in.", "Get out.", "Go away.", "Goodbye!"]
FRENCH = ["Va !", "Salut !", "Cours !", "Ca alors !", "Au feu !", "A l'aide !", "Stop !",
          "Attends !", "Je vois.", "J'essaye.", "J'ai gagne !", "Souris.", "Attaque !",
          "Sante !", "Leve-toi.", "Compris !", "Monte.", "Serre-moi.", "Je suis tombe.",
          "Je sais.", "Je suis parti.", "J'ai menti.", "J'ai perdu.", "J'ai 19 ans.",
          "Je vais bien.", "Ecoute.", "Pas question !", "Vraiment ?", "Merci.", "On essaye.",
          "Demande a Tom.", "Sois calme !", "Sois juste !", "Sois gentil.", "Degage !",
          "Appelle-moi !", "Entre.", "Sortez !", "Va-t'en !", "Au revoir !"]

batch_size = 4  # Batch size for training.
epochs = 150  # Number of epochs to train for.
latent_dim = 64  # Latent dimensionality of the encoding space.
num_samples = 10000  # Number of samples to train on.
# Path to the data txt file on disk.
data_path = "fra.txt"


def write_pairs():
    with open(data_path, "w", encoding="utf-8") as f:
        for english, french in zip(ENGLISH, FRENCH):
            f.write(f"{english}\t{french}\tCC-BY 2.0 (France) Attribution: made up\n")


def test_character_level_seq2seq():
    write_pairs()

    # Vectorize the data.
    input_texts = []
    target_texts = []
    input_characters = set()
    target_characters = set()
    with open(data_path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines[: min(num_samples, len(lines) - 1)]:
        input_text, target_text, _ = line.split("\t")
        # We use "tab" as the "start sequence" character
        # for the targets, and "\n" as "end sequence" character.
        target_text = "\t" + target_text + "\n"
        input_texts.append(input_text)
        target_texts.append(target_text)
        for char in input_text:
            if char not in input_characters:
                input_characters.add(char)
        for char in target_text:
            if char not in target_characters:
                target_characters.add(char)

    input_characters = sorted(list(input_characters))
    target_characters = sorted(list(target_characters))
    num_encoder_tokens = len(input_characters)
    num_decoder_tokens = len(target_characters)
    max_encoder_seq_length = max(len(txt) for txt in input_texts)
    max_decoder_seq_length = max(len(txt) for txt in target_texts)

    assert len(input_texts) == 40  # print("Number of samples:", len(input_texts))
    assert max_encoder_seq_length == 8 and max_decoder_seq_length == 16

    input_token_index = dict([(char, i) for i, char in enumerate(input_characters)])
    target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

    encoder_input_data = np.zeros(
        (len(input_texts), max_encoder_seq_length, num_encoder_tokens), dtype="float32"
    )
    decoder_input_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32"
    )
    decoder_target_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32"
    )

    for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
        for t, char in enumerate(input_text):
            encoder_input_data[i, t, input_token_index[char]] = 1.0
        encoder_input_data[i, t + 1 :, input_token_index[" "]] = 1.0
        for t, char in enumerate(target_text):
            # decoder_target_data is ahead of decoder_input_data by one timestep
            decoder_input_data[i, t, target_token_index[char]] = 1.0
            if t > 0:
                # decoder_target_data will be ahead by one timestep
                # and will not include the start character.
                decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
        decoder_input_data[i, t + 1 :, target_token_index[" "]] = 1.0
        decoder_target_data[i, t:, target_token_index[" "]] = 1.0

    # Define an input sequence and process it.
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)

    # We discard `encoder_outputs` and only keep the states.
    encoder_states = [state_h, state_c]

    # Set up the decoder, using `encoder_states` as initial state.
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))

    # We set up our decoder to return full output sequences,
    # and to return internal states as well. We don't use the
    # return states in the training model, but we will use them in inference.
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    # Define the model that will turn
    # `encoder_input_data` & `decoder_input_data` into `decoder_target_data`
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.2,
        verbose=0,
    )
    accuracy = history.history["accuracy"]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert accuracy[-1] > 0.8 > 0.5 > accuracy[0]  # 0.30 -> 0.93 here (0.40 -> 0.52
    # after 40 epochs, as tf_keras 2.21 gave on the same data)
    trained = model.predict([encoder_input_data, decoder_input_data], verbose=0)
    # Save model
    model.save("s2s")

    # Define sampling models
    # Restore the model and construct the encoder and decoder.
    model = keras.models.load_model("s2s")
    np.testing.assert_allclose(
        model.predict([encoder_input_data, decoder_input_data], verbose=0), trained, atol=1e-6)

    encoder_inputs = model.input[0]  # input_1
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]  # input_2
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs
    )
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model(
        [decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states
    )

    # Reverse-lookup token index to decode sequences back to
    # something readable.
    reverse_input_char_index = {i: char for char, i in input_token_index.items()}
    reverse_target_char_index = {i: char for char, i in target_token_index.items()}
    assert reverse_input_char_index[input_token_index["G"]] == "G"

    def decode_sequence(input_seq):
        # Encode the input as state vectors.
        states_value = encoder_model.predict(input_seq, verbose=0)

        # Generate empty target sequence of length 1.
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        # Populate the first character of target sequence with the start character.
        target_seq[0, 0, target_token_index["\t"]] = 1.0

        # Sampling loop for a batch of sequences
        # (to simplify, here we assume a batch of size 1).
        stop_condition = False
        decoded_sentence = ""
        while not stop_condition:
            output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)

            # Sample a token
            sampled_token_index = np.argmax(output_tokens[0, -1, :])
            sampled_char = reverse_target_char_index[sampled_token_index]
            decoded_sentence += sampled_char

            # Exit condition: either hit max length
            # or find stop character.
            if sampled_char == "\n" or len(decoded_sentence) > max_decoder_seq_length:
                stop_condition = True

            # Update the target sequence (of length 1).
            target_seq = np.zeros((1, 1, num_decoder_tokens))
            target_seq[0, 0, sampled_token_index] = 1.0

            # Update states
            states_value = [h, c]
        return decoded_sentence

    # the inference models are the trained model cut in two: teacher-forced step by
    # step through decoder_model, the first sentence gives the training model's outputs
    states = encoder_model.predict(encoder_input_data[:1], verbose=0)
    assert [s.shape for s in states] == [(1, latent_dim), (1, latent_dim)]
    for t in range(max_decoder_seq_length):
        output_tokens, h, c = decoder_model.predict(
            [decoder_input_data[:1, t : t + 1]] + states, verbose=0)
        np.testing.assert_allclose(output_tokens[0, 0], trained[0, t], atol=1e-5)
        states = [h, c]

    decoded = []
    for seq_index in range(20):
        # Take one sequence (part of the training set)
        # for trying out decoding.
        input_seq = encoder_input_data[seq_index : seq_index + 1]
        decoded_sentence = decode_sequence(input_seq)
        decoded.append(decoded_sentence)
        # print("Input sentence:", input_texts[seq_index])
        # print("Decoded sentence:", decoded_sentence)
    right = sum(d == t[1:] for d, t in zip(decoded, target_texts))
    assert right >= 10, list(zip(input_texts, decoded))  # 14 of 20 here
