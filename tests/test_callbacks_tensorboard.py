"""callbacks.TensorBoard and the event files it writes (callbacks/event_file.py,
callbacks/summaries.py), against bytes and numbers TensorFlow 2.21 / tf_keras 2.21 wrote."""

import glob
import os
import pathlib
import re
import struct
import warnings
import zlib

import numpy as np
import pytest

import minidl
from minidl import keras
from minidl.callbacks import event_file, summaries
from minidl.callbacks.event_file import crc32c, event, read_events, record

# --- the file format ----------------------------------------------------------------------------
# The records TensorFlow 2.21 wrote for (wall times in the records):
#   w = tf.summary.create_file_writer(logdir)
#   with w.as_default():
#       tf.summary.scalar("epoch_loss", 0.5, step=3)
#       tf.summary.histogram("dense/kernel_0/histogram",
#                            np.float32([[0.5, -0.25, 0.125], [1.0, -1.0, 0.0]]), step=1, buckets=4)
#       tf.summary.image("dense/kernel_0/image", np.float32([[[[0.0], [0.25]], [[0.5], [2.0]]]]),
#                        step=2)
TF_FIRST = (b'>\x00\x00\x00\x00\x00\x00\x00\xd9\xd2@\xe7\t\x00\x00@=\xba\xc4\xdaA\x1a\rbrain.Event:2'
            b'R$\n"tensorflow.core.util.events_writer\xd9\x15\xa0e')
TF_FIRST_TIME = 1796401397.0
TF_SCALAR = (b'4\x00\x00\x00\x00\x00\x00\x00^3\x17\\\t\xaa\x82\x80=\xba\xc4\xdaA\x10\x03*\'\n%\n\n'
             b'epoch_lossB\n\x08\x01\x12\x00"\x04\x00\x00\x00?J\x0b\n\t\n\x07scalarsN\xa4\xe8\xdb')
TF_SCALAR_TIME = 1796401398.007975
TF_HISTOGRAM = (
    b'\xab\x00\x00\x00\x00\x00\x00\x00\x85C\x0b(\tv\xe1\x86=\xba\xc4\xdaA\x10\x01*\x9d\x01\n\x9a\x01'
    b'\n\x18dense/kernel_0/histogramBn\x08\x02\x12\x08\x12\x02\x08\x04\x12\x02\x08\x03"`\x00\x00\x00'
    b'\x00\x00\x00\xf0\xbf\x00\x00\x00\x00\x00\x00\xe0\xbf\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00'
    b'\x00\x00\x00\xe0\xbf\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00'
    b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xe0?\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00'
    b'\x00\x00\xe0?\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@J\x0e\n\x0c\n\n'
    b'histograms\xda\x06\xd7\x96')
TF_HISTOGRAM_TIME = 1796401398.107511
HISTOGRAM_DATA = np.float32([[0.5, -0.25, 0.125], [1.0, -1.0, 0.0]])


@pytest.mark.parametrize("data, crc", [
    # RFC 3720 (iSCSI), B.4, and the check value of the CRC catalogue
    (b"", 0), (b"123456789", 0xE3069283), (bytes(32), 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E), (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_vectors(data, crc):
    assert crc32c(data) == crc


def test_first_record_is_tensorflows_byte_for_byte():
    mine = record(event(TF_FIRST_TIME, file_version="brain.Event:2",
                        writer="tensorflow.core.util.events_writer"))
    assert mine == TF_FIRST


def test_scalar_record_is_tensorflows_byte_for_byte():
    assert record(event(TF_SCALAR_TIME, 3, [summaries.scalar("epoch_loss", 0.5)])) == TF_SCALAR


def test_histogram_record_is_tensorflows_byte_for_byte():
    value = summaries.histogram("dense/kernel_0/histogram", HISTOGRAM_DATA, bucket_count=4)
    assert record(event(TF_HISTOGRAM_TIME, 1, [value])) == TF_HISTOGRAM


def test_reader_reads_tensorflows_records(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host.1.0.v2"
    path.write_bytes(TF_FIRST + TF_SCALAR + TF_HISTOGRAM)
    first, scalar, histogram = read_events(path)
    assert first == {"wall_time": TF_FIRST_TIME, "step": 0, "file_version": "brain.Event:2",
                     "writer": "tensorflow.core.util.events_writer", "values": []}
    assert scalar["step"] == 3 and scalar["wall_time"] == TF_SCALAR_TIME
    [value] = scalar["values"]
    assert value["tag"] == "epoch_loss" and value["plugin_name"] == "scalars"
    tensor = value["tensor"]
    assert tensor.dtype == np.float32 and tensor.shape == () and tensor == 0.5
    [value] = histogram["values"]
    assert value["plugin_name"] == "histograms"
    np.testing.assert_array_equal(value["tensor"], [[-1, -0.5, 1], [-0.5, 0, 1], [0, 0.5, 2],
                                                    [0.5, 1, 2]])


def test_reader_refuses_a_damaged_record_and_stops_at_a_cut_one(tmp_path):
    path = tmp_path / "events"
    damaged = bytearray(TF_FIRST + TF_SCALAR)
    damaged[len(TF_FIRST) + 30] ^= 1
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=f"the record at byte {len(TF_FIRST)} is damaged"):
        read_events(path)
    path.write_bytes(TF_FIRST + TF_SCALAR[:-7])  # a writer still writing
    assert len(read_events(path)) == 1


def test_histogram_buckets_follow_tensorboards_rule():
    # tensorboard.plugins.histogram.summary_v2._buckets(tf.constant(d), 4) in TF 2.21
    np.testing.assert_array_equal(summaries.histogram_buckets(np.arange(7.0) ** 2, 4),
                                  [[0, 9, 3], [9, 18, 2], [18, 27, 1], [27, 36, 1]])
    np.testing.assert_array_equal(summaries.histogram_buckets([3.0], 4),
                                  [[3, 3, 0], [3, 3, 0], [3, 3, 0], [3, 3, 1]])
    np.testing.assert_array_equal(summaries.histogram_buckets([], 4), np.zeros((4, 3)))
    np.testing.assert_array_equal(
        summaries.histogram_buckets(np.float32([0.1, 0.2, 0.3, 0.7]), 4),
        [[0.10000000149011612, 0.24999999813735485, 2], [0.24999999813735485, 0.3999999947845936, 1],
         [0.3999999947845936, 0.5499999914318323, 0], [0.5499999914318323, 0.699999988079071, 1]])
    assert summaries.histogram_buckets(np.ones((5, 5)) * np.arange(5)).shape == (30, 3)


def png_pixels(png):
    """Our PNGs' pixels (one IDAT, filter 0 on every row) as (height, width, channels)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = {}, 8
    while offset < len(png):
        length, = struct.unpack(">I", png[offset:offset + 4])
        kind, data = png[offset + 4:offset + 8], png[offset + 8:offset + 8 + length]
        assert struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])[0] == \
            zlib.crc32(kind + data)
        chunks[kind] = data
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 6: 4}[colour]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert depth == 8 and not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels).tolist()


def test_image_summary_holds_tensorflows_pixels():
    tensor = _tensor_of(summaries.image("dense/kernel_0/image",
                                        np.float32([[[[0.0], [0.25]], [[0.5], [2.0]]]])))
    assert list(tensor[:2]) == [b"2", b"2"]  # width, height
    # tf.io.decode_png of the PNG in TF's own record
    assert [png_pixels(png) for png in tensor[2:]] == [[[[0], [63]], [[127], [255]]]]


def test_weight_images_as_tf_keras_lays_them_out():
    # tf.image.convert_image_dtype(<tf_keras _log_weight_as_image's w_img>, tf.uint8,
    # saturate=True)[:3], in tf_keras 2.21
    conv = (np.arange(36, dtype="float32").reshape(3, 2, 2, 3) - 10) / 24
    dense = (np.arange(6, dtype="float32").reshape(3, 2) - 1) / 3
    bias = np.float32([0.2, -0.1, 0.9])
    expected = [
        [[[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 10]]],
         [[[21, 31, 42], [53, 63, 74]], [[85, 95, 106], [117, 127, 138]]],
         [[[149, 159, 170], [180, 191, 202]], [[212, 223, 234], [244, 255, 255]]]],
        [[[[0], [85], [255]], [[0], [170], [255]]]],
        [[[[51]], [[0]], [[229]]]],
    ]
    for weight, pixels in zip((conv, dense, bias), expected):
        images = summaries.weight_images(weight)
        tensor = _tensor_of(summaries.image("w", images))
        assert [png_pixels(png) for png in tensor[2:]] == pixels
    assert summaries.weight_images(np.zeros((3, 3, 2, 5))) is None  # 5 channels: no image


def _tensor_of(summary_value):
    return event_file.read_tensor(event_file.parse_message(summary_value)[8][0])


# --- the callback in fit ------------------------------------------------------------------------
def reference_fit(log_dir, **kwargs):
    """The fit whose logs tf_keras 2.21 wrote as TF_KERAS_TRAIN / TF_KERAS_VALIDATION."""
    x = np.sin(np.arange(60, dtype="float32") * 1.7).reshape(20, 3)
    y = (x[:, 0] - x[:, 1] + 0.5 * x[:, 2] > 0).astype("float32")
    model = keras.Sequential([
        keras.layers.Dense(2, activation="relu", input_shape=(3,), name="dense"),
        keras.layers.Dense(1, activation="sigmoid", name="dense_1")])
    model.set_weights([np.array([[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], "float32"),
                       np.array([0.1, -0.1], "float32"), np.array([[0.7], [-0.4]], "float32"),
                       np.array([0.05], "float32")])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.5, decay_steps=2, decay_rate=0.5)
    model.compile(keras.optimizers.SGD(schedule), "binary_crossentropy", ["accuracy"])
    callback = keras.callbacks.TensorBoard(log_dir, **kwargs)
    model.fit(x[:15], y[:15], epochs=2, batch_size=5, shuffle=False,
              validation_data=(x[15:], y[15:]), callbacks=[callback], verbose=0)
    return model, callback


# reference_fit(log_dir, update_freq=2, histogram_freq=1) in tf_keras 2.21 (the same code with
# `import tf_keras as keras`, and verbose=1: tf_keras writes batch_* only while the progress bar
# makes fit call the batch hooks), read with tf.compat.v1.train.summary_iterator:
# (tag, step, value) for scalars, (tag, step, counts, first left edge, last right edge) for
# histograms, (tag, step, plugin) otherwise.
TF_KERAS_TRAIN = [
    ('keras', 0, 'graph_keras_model'),
    ('batch_loss', 2, 0.6149484515190125),
    ('batch_accuracy', 2, 0.699999988079071),
    ('epoch_loss', 0, 0.6274529695510864),
    ('epoch_accuracy', 0, 0.7333333492279053),
    ('epoch_learning_rate', 0, 0.1767766922712326),
    ('dense/kernel_0/histogram', 0, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,
                                     0, 0, 1, 0, 0, 0, 0, 0, 1], -0.5979148149490356, 0.8738319277763367),
    ('dense/bias_0/histogram', 0, [1] + [0] * 28 + [1], 0.027177035808563232, 0.09000546485185623),
    ('dense_1/kernel_0/histogram', 0, [1] + [0] * 28 + [1], -0.5508290529251099, 0.6890479922294617),
    ('dense_1/bias_0/histogram', 0, [0] * 29 + [1], -0.0076673924922943115, -0.0076673924922943115),
    ('batch_loss', 4, 0.5407770276069641),
    ('batch_accuracy', 4, 0.800000011920929),
    ('batch_loss', 6, 0.5789077877998352),
    ('batch_accuracy', 6, 0.7333333492279053),
    ('epoch_loss', 1, 0.5789077877998352),
    ('epoch_accuracy', 1, 0.7333333492279053),
    ('epoch_learning_rate', 1, 0.0625),
    ('dense/kernel_0/histogram', 1, [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0,
                                     0, 1, 0, 0, 0, 0, 0, 0, 1], -0.5992316603660583, 0.902576208114624),
    ('dense/bias_0/histogram', 1, [1] + [0] * 28 + [1], 0.0771128460764885, 0.0907449722290039),
    ('dense_1/kernel_0/histogram', 1, [1] + [0] * 28 + [1], -0.610217809677124, 0.695885956287384),
    ('dense_1/bias_0/histogram', 1, [0] * 29 + [1], -0.014755736105144024, -0.014755736105144024),
]
TF_KERAS_VALIDATION = [
    ('evaluation_loss_vs_iterations', 3, 0.5310940742492676),
    ('evaluation_accuracy_vs_iterations', 3, 0.800000011920929),
    ('epoch_loss', 0, 0.5310940742492676),
    ('epoch_accuracy', 0, 0.800000011920929),
    ('evaluation_loss_vs_iterations', 6, 0.5107176899909973),
    ('evaluation_accuracy_vs_iterations', 6, 0.800000011920929),
    ('epoch_loss', 1, 0.5107176899909973),
    ('epoch_accuracy', 1, 0.800000011920929),
]
FILE_NAME = re.compile(r"events\.out\.tfevents\.\d{10}\.[^/]+\.\d+\.\d+\.v2$")


def event_files(log_dir, run):
    files = glob.glob(os.path.join(log_dir, run, "events.out.tfevents.*"))
    return sorted(files, key=lambda name: int(name.split(".")[-2]))


def summarised(path):
    """The file's values in the form of TF_KERAS_TRAIN."""
    rows = []
    for one in read_events(path)[1:]:
        for value in one["values"]:
            tensor = value["tensor"]
            if value["plugin_name"] == "scalars":
                rows.append((value["tag"], one["step"], float(tensor)))
            elif value["plugin_name"] == "histograms":
                rows.append((value["tag"], one["step"], tensor[:, 2].astype(int).tolist(),
                             tensor[0, 0], tensor[-1, 1]))
            else:
                rows.append((value["tag"], one["step"], value["plugin_name"]))
    return rows


def assert_rows_match(mine, reference):
    assert [row[:2] for row in mine] == [row[:2] for row in reference]
    for row, expected in zip(mine, reference):
        if isinstance(expected[2], float):
            assert row[2] == pytest.approx(expected[2], rel=2e-5)
        elif isinstance(expected[2], list):
            assert row[2] == expected[2]
            assert row[3:] == pytest.approx(expected[3:], rel=2e-5, abs=1e-7)
        else:
            assert row[2] == expected[2]


def test_fit_writes_the_tags_steps_and_values_tf_keras_writes(tmp_path):
    model, _ = reference_fit(tmp_path / "logs", update_freq=2, histogram_freq=1)
    assert sorted(os.listdir(tmp_path / "logs")) == ["train", "validation"]
    [train], [validation] = event_files(tmp_path / "logs", "train"), event_files(tmp_path / "logs",
                                                                                 "validation")
    assert FILE_NAME.search(train) and FILE_NAME.search(validation)
    for path in (train, validation):
        first = read_events(path)[0]
        assert first["file_version"] == "brain.Event:2" and first["values"] == []
        assert first["wall_time"] == int(path.split(".")[3])  # the time in the name
    assert_rows_match(summarised(train), TF_KERAS_TRAIN)
    assert_rows_match(summarised(validation), TF_KERAS_VALIDATION)
    keras_value = read_events(train)[1]["values"][0]
    assert keras_value["plugin_content"] == b"1"
    assert keras_value["tensor"].item().decode() == model.to_json()


def test_files_appear_when_training_starts_and_are_flushed_at_each_epoch(tmp_path):
    log_dir = tmp_path / "fresh"
    callback = keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1, update_freq="batch")
    assert not log_dir.exists()  # constructing writes nothing (the Keras guide never fits it)
    assert callback.log_dir == str(log_dir)
    seen = []

    def read_now(epoch, logs):
        seen.append([row[:2] for row in summarised(event_files(log_dir, "train")[0])])

    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,), name="dense")])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2)), np.ones(4), epochs=2, batch_size=2, verbose=0,
              callbacks=[callback, keras.callbacks.LambdaCallback(on_epoch_end=read_now)])
    assert ("epoch_loss", 0) in seen[0] and ("dense/kernel_0/histogram", 0) in seen[0]
    assert ("batch_loss", 2) in seen[0] and ("epoch_loss", 1) in seen[1]
    assert callback._writers == {}  # closed at train end


def test_batch_and_epoch_update_freq(tmp_path):
    for update_freq, steps in (("batch", [1, 2, 3, 4, 5, 6]), (4, [4]), ("epoch", [])):
        log_dir = tmp_path / str(update_freq)
        reference_fit(log_dir, update_freq=update_freq, write_graph=False)
        rows = summarised(event_files(log_dir, "train")[0])
        assert [step for tag, step, *_ in rows if tag == "batch_loss"] == steps
        assert [tag for tag, step, *_ in rows if step == 0 and tag.startswith("epoch")] == [
            "epoch_loss", "epoch_accuracy", "epoch_learning_rate"]


def test_steps_per_second(tmp_path):
    reference_fit(tmp_path, write_steps_per_second=True, update_freq=3, write_graph=False)
    rows = summarised(event_files(tmp_path, "train")[0])
    assert [(tag, step) for tag, step, *_ in rows if "per_second" in tag] == [
        ("batch_steps_per_second", 3), ("epoch_steps_per_second", 0),
        ("batch_steps_per_second", 6), ("epoch_steps_per_second", 1)]
    assert all(value > 0 for tag, step, value in rows if "per_second" in tag)


def test_evaluate_writes_evaluation_scalars_at_the_optimizers_step(tmp_path):
    # tf_keras 2.21: fit(epochs=1) then evaluate(callbacks=[same callback]) gives a train file
    # (keras, epoch_*), then a new train file (keras) and a validation file with
    # evaluation_loss_vs_iterations and evaluation_accuracy_vs_iterations at step 4 (4 batches)
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("sgd", "binary_crossentropy", ["accuracy"])
    callback = keras.callbacks.TensorBoard(tmp_path)
    x, y = np.ones((40, 3), "float32"), np.ones(40, "float32")
    model.fit(x, y, epochs=1, batch_size=10, callbacks=[callback], verbose=0)
    loss, accuracy = model.evaluate(x, y, batch_size=10, callbacks=[callback], verbose=0)
    first, second = event_files(tmp_path, "train")
    assert [row[:2] for row in summarised(first)] == [("keras", 0), ("epoch_loss", 0),
                                                      ("epoch_accuracy", 0)]
    assert [row[:2] for row in summarised(second)] == [("keras", 0)]
    [validation] = event_files(tmp_path, "validation")
    assert summarised(validation) == [
        ("evaluation_loss_vs_iterations", 4, pytest.approx(loss, rel=1e-6)),
        ("evaluation_accuracy_vs_iterations", 4, pytest.approx(accuracy, rel=1e-6))]
    assert callback._writers == {}


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1, name="dense")

    def call(self, inputs):
        return self.dense(inputs)


def test_functional_and_subclassed_models(tmp_path):
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
    for name, model in (("functional", functional), ("subclassed", Subclassed())):
        model.compile("sgd", "mse")
        model.fit(np.ones((6, 3)), np.ones(6), epochs=1, verbose=0, validation_split=0.5,
                  callbacks=[keras.callbacks.TensorBoard(tmp_path / name, histogram_freq=1)])
    rows = summarised(event_files(tmp_path / "functional", "train")[0])
    assert [row[:2] for row in rows] == [("keras", 0), ("epoch_loss", 0),
                                         ("out/kernel_0/histogram", 0), ("out/bias_0/histogram", 0)]
    # a subclassed model has no config, so no graph: as in tf_keras
    rows = summarised(event_files(tmp_path / "subclassed", "train")[0])
    assert [row[:2] for row in rows] == [("epoch_loss", 0), ("dense/kernel_0/histogram", 0),
                                         ("dense/bias_0/histogram", 0)]
    assert [row[:2] for row in summarised(event_files(tmp_path / "subclassed", "validation")[0])] \
        == [("evaluation_loss_vs_iterations", 1), ("epoch_loss", 0)]


def test_write_images(tmp_path):
    model = keras.Sequential([keras.layers.Conv2D(3, (3, 2), input_shape=(6, 6, 2)),
                              keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 6, 6, 2)), np.ones(4), epochs=1, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True,
                                    write_graph=False)])
    images = {}
    for one in read_events(event_files(tmp_path, "train")[0]):
        for value in one["values"]:
            if value["plugin_name"] == "images":
                images[value["tag"]] = [bytes(s) for s in value["tensor"][:2]], len(value["tensor"])
    conv, dense = model.layers[0].name, model.layers[2].name
    # the kernel (3, 2, 2, 3): three 2x2 RGB images; the bias: one 1x3 image; the Dense kernel
    # (60, 1) squeezed to a bias-like 1-D: one 1x60 image (tf_keras's layouts)
    assert images == {f"{conv}/kernel_0/image": ([b"2", b"2"], 5),
                      f"{conv}/bias_0/image": ([b"1", b"3"], 3),
                      f"{dense}/kernel_0/image": ([b"1", b"60"], 3)}
    with pytest.warns(UserWarning, match="with histogram_freq=0 there are none"):
        keras.callbacks.TensorBoard(tmp_path, write_images=True)


def test_embeddings_for_the_projector(tmp_path):
    # Deep Learning with Python, chapter 7: TensorBoard(log_dir=..., histogram_freq=1,
    # embeddings_freq=1) on a model with an Embedding layer
    model = keras.Sequential([keras.layers.Embedding(10, 4, input_length=5, name="embed"),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", ["acc"])
    x = np.arange(40).reshape(8, 5) % 10
    model.fit(x, np.arange(8) % 2, epochs=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(
        log_dir=tmp_path, histogram_freq=1, embeddings_freq=1, embeddings_metadata="words.tsv")])
    assert (tmp_path / "projector_config.pbtxt").read_text() == (
        'embeddings {\n  tensor_name: "embed/embeddings"\n  metadata_path: "words.tsv"\n'
        '  tensor_path: "train/keras_embedding.embed.tsv"\n}\n')
    tsv = np.loadtxt(tmp_path / "train" / "keras_embedding.embed.tsv", delimiter="\t")
    np.testing.assert_allclose(tsv, model.layers[0].get_weights()[0], rtol=1e-7)
    tags = [value["tag"] for one in read_events(event_files(tmp_path, "train")[0])
            for value in one["values"]]
    assert "embed/embeddings_0/histogram" in tags


def test_embeddings_refusals_and_warnings(tmp_path):
    model = keras.Sequential([keras.layers.Embedding(10, 4, name="embed")])
    model.compile("sgd", "mse")
    x, y = np.zeros((2, 3)), np.zeros((2, 3, 4))
    callback = keras.callbacks.TensorBoard(tmp_path / "a", embeddings_freq=1,
                                           embeddings_metadata={"embedx": "m.tsv"})
    # tf_keras 2.21's message
    with pytest.raises(ValueError, match=re.escape(
            "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` "
            "`embeddings_metadata` argument: dict_keys(['embedx'])")):
        model.fit(x, y, verbose=0, callbacks=[callback])
    dense = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    dense.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="has none among its layers: no embeddings"):
        dense.fit(np.ones((2, 2)), np.ones(2), verbose=0,
                  callbacks=[keras.callbacks.TensorBoard(tmp_path / "b", embeddings_freq=1)])
    assert not (tmp_path / "b" / "projector_config.pbtxt").exists()


def test_a_log_that_is_not_one_number_is_left_out_with_a_warning(tmp_path):
    def add_vector(epoch, logs):
        logs["per_class"] = np.array([0.1, 0.2])

    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="'per_class' is not one number"):
        model.fit(np.ones((2, 2)), np.ones(2), epochs=2, verbose=0, callbacks=[
            keras.callbacks.LambdaCallback(on_epoch_end=add_vector),
            keras.callbacks.TensorBoard(tmp_path, write_graph=False)])
    assert [row[:2] for row in summarised(event_files(tmp_path, "train")[0])] == [
        ("epoch_loss", 0), ("epoch_loss", 1)]


def test_keras_namespace_and_pathlib(tmp_path):
    assert keras.callbacks.TensorBoard is minidl.callbacks.TensorBoard
    callback = keras.callbacks.TensorBoard(pathlib.Path(tmp_path) / "logs")
    assert callback.log_dir == os.path.join(str(tmp_path), "logs")
    defaults = keras.callbacks.TensorBoard()
    assert (defaults.log_dir, defaults.histogram_freq, defaults.write_graph, defaults.write_images,
            defaults.write_steps_per_second, defaults.update_freq, defaults.embeddings_freq,
            defaults.embeddings_metadata) == ("logs", 0, True, False, False, "epoch", 0, None)


# --- hostile arguments --------------------------------------------------------------------------
PROFILE_MESSAGE = ("profile_batch must be a non-negative integer or 2-tuple of positive "
                   "integers. A pair of positive integers signifies a range of batches to "
                   "profile. Found: ")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(update_freq="foo"), ValueError, "update_freq must be 'batch', 'epoch' or a positive"),
    (dict(update_freq=0), ValueError, "received 0"),
    (dict(update_freq=-1), ValueError, "received -1"),
    (dict(update_freq=2.5), ValueError, "received 2.5"),
    (dict(update_freq=True), ValueError, "received True"),
    (dict(histogram_freq=-1), ValueError, "histogram_freq must be an integer >= 0"),
    (dict(histogram_freq="1"), ValueError, "received '1'"),
    (dict(histogram_freq=1.5), ValueError, "received 1.5"),
    (dict(embeddings_freq=-1), ValueError, "embeddings_freq must be an integer >= 0"),
    (dict(embeddings_metadata=3), TypeError, "embeddings_metadata must be a file name or a dict"),
    # tf_keras 2.21's messages
    (dict(profile_batch=-1), ValueError, PROFILE_MESSAGE + "-1"),
    (dict(profile_batch=(5, 2)), ValueError, PROFILE_MESSAGE + r"\(5, 2\)"),
    (dict(profile_batch=(1, 2, 3)), ValueError, PROFILE_MESSAGE + r"\(1, 2, 3\)"),
    (dict(profile_batch=1.5), ValueError, PROFILE_MESSAGE + "1.5"),
    (dict(profile_batch=None), ValueError, PROFILE_MESSAGE + "None"),
    (dict(profile_batch="x"), ValueError, PROFILE_MESSAGE + "x"),
    (dict(foo=1), ValueError, r"Unrecognized arguments in `TensorBoard` Callback: \{'foo'\}\. "
                              r"Supported kwargs are: \{'batch_size', 'embeddings_data', "
                              r"'embeddings_layer_names', 'write_grads'\}"),
    (dict(log_dir=None), TypeError, "expected str, bytes or os.PathLike object, not NoneType"),
    # valid in tf_keras, which then profiles with TensorFlow's profiler: minidl cannot
    (dict(profile_batch=5), ValueError, "minidl cannot give profile_batch=5: TensorBoard's "
                                        "Profile tab reads TensorFlow profiler traces"),
    (dict(profile_batch=(10, 20)), ValueError, r"minidl cannot give profile_batch=\(10, 20\)"),
    (dict(profile_batch="1,3"), ValueError, "minidl cannot give profile_batch='1,3'"),
])
def test_hostile_arguments(tmp_path, kwargs, error, message):
    kwargs.setdefault("log_dir", tmp_path / "never")
    with pytest.raises(error, match=message):
        keras.callbacks.TensorBoard(**kwargs)
    assert not (tmp_path / "never").exists()


def test_profile_batch_zero_and_its_text_are_off(tmp_path):
    for off in (0, "0", (0, 0)):
        keras.callbacks.TensorBoard(tmp_path, profile_batch=off)


def test_keras_1_arguments_warn_as_tf_keras(tmp_path):
    with pytest.warns(UserWarning, match=r"`write_grads` will be ignored in TensorFlow 2\.0"):
        keras.callbacks.TensorBoard(tmp_path, write_grads=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras.callbacks.TensorBoard(tmp_path, write_grads=False, batch_size=None)
        with pytest.raises(ValueError, match="update_freq"):  # refused: no warning either
            keras.callbacks.TensorBoard(tmp_path, write_grads=True, update_freq="x")


# --- TensorBoard's own reader -------------------------------------------------------------------
def test_tensorboards_event_accumulator_reads_our_files(tmp_path):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator").EventAccumulator
    from tensorboard.util import tensor_util

    reference_fit(tmp_path, update_freq=2, histogram_freq=1)
    train = accumulator(str(tmp_path / "train"))
    train.Reload()
    assert train.Tags()["tensors"] == list(dict.fromkeys(row[0] for row in TF_KERAS_TRAIN))
    losses = [(one.step, float(tensor_util.make_ndarray(one.tensor_proto)))
              for one in train.Tensors("epoch_loss")]
    assert losses == [(0, pytest.approx(0.6274529695510864, rel=2e-5)),
                      (1, pytest.approx(0.5789077877998352, rel=2e-5))]
    assert train.SummaryMetadata("epoch_loss").plugin_data.plugin_name == "scalars"
    histogram = tensor_util.make_ndarray(train.Tensors("dense/kernel_0/histogram")[0].tensor_proto)
    assert histogram.shape == (30, 3) and histogram[:, 2].sum() == 6
    validation = accumulator(str(tmp_path / "validation"))
    validation.Reload()
    assert [one.step for one in validation.Tensors("evaluation_loss_vs_iterations")] == [3, 6]
