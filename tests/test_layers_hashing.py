"""Hashing, HashedCrossing and their hashes against TensorFlow and tf_keras 2.21.

Every expected hash, bin and config below was printed by TensorFlow 2.21 /
tf_keras 2.21 on the same inputs and copied here as literals (this suite never
imports TensorFlow; fixtures/hashing/make_fixtures.py prints the hash lists).  The fingerprints are ``tf.fingerprint(strings, "farmhash64")``
read as little-endian uint64; the SipHash values are
``tf.strings.to_hash_bucket_strong(strings, 2**63 - 1, key=...)``, the hash mod 2**63 - 1.
``STRINGS`` has one string of every length 0..130: every branch of Fingerprint64
(0, 1-3, 4-7, 8-16, 17-32, 33-64 bytes, one and two 64-byte blocks) and every
tail length of SipHash.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl._kernels import compiled, reference
from minidl.models import load_model
from minidl.ops.hashing import fingerprint64, fingerprint_cat64, siphash64, string_bytes
from minidl.tensor import Tensor

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "hashing"  # make_fixtures.py there
BACKENDS = [compiled, reference]
MOD = 2 ** 63 - 1
STRINGS = ["".join(chr(97 + (i * 7 + n) % 26) for i in range(n)) for n in range(131)]
OTHERS = ["", "A", "héllo", "日本語", "🙂 emoji", "a" * 200,
          "The quick brown fox jumps over the lazy dog. " * 3, "[UNK]", "-9223372036854775808"]

FINGERPRINTS = [
    0x9AE16A3B2F90404F, 0xA3B260215EC8F116, 0x9C9AAB5646DD8DBC, 0xF79520F4C18B49EB,
    0x4891D9D84A7D0ACA, 0x855E3691C8BED061, 0x1FF361B4ADE346DE, 0x204B0DEBC51C118E,
    0xEB238B266F60AB19, 0x0407642445938040, 0x984FA86B382B3C31, 0xE3E97ED10370A244,
    0xD4C68C4866C16CE0, 0x43A24C4E0C82CBAF, 0xF6C007D3C4646366, 0xB268EB76C192EA90,
    0x35054FA74179D981, 0xE28D80BFC51585C7, 0xD16CF181BF048230, 0xC6C1EB7591A97FA4,
    0x4476767823C46FB1, 0xEDB41A34785AC94A, 0x186D9F7C0119A07B, 0x6E6172A6E479A95A,
    0xDD43C0068591E900, 0xC70570EDD086C6EE, 0x6D4B1A4566E86FDB, 0x80E5687195681095,
    0x5F53A7A83DAA1BA9, 0x273ECD21A95F7357, 0x2C196C9224D33209, 0x07A4A41D71BD14BA,
    0x01C5AE063C078260, 0xBA2C9E2EF248AF32, 0x84F3FAEAB8E38B21, 0x4CB3C4678BA046CF,
    0xCCC30B65940B1454, 0xD42F544B53E8C1CE, 0x7276BB87EBC43417, 0xF44B00375978E9FA,
    0x3ADC68C56F02FB47, 0xD5D64041CF3F4B96, 0xBB3AF03445D55649, 0x5062CEE7EC459C85,
    0x6AB3DDAC51916F60, 0x6F24D3D358EE4D31, 0xCD0B2CF144F74301, 0x8666B06C614BDFA3,
    0x71B8CB44B072F100, 0x688FEC9516CE8D6B, 0x4FE8A5493817E81F, 0x1E8BE2B7D4AEB3AE,
    0x8FF6DB1C62C91B9C, 0x09307ADF01A34EB6, 0xD0A9B0C254FDDB51, 0x1D1859A6401768E9,
    0x3C53A2D759A7E0F2, 0x3607BB008D32FCAE, 0xF01733B72024DF0D, 0xA08AA3ACE6EB45C6,
    0xC6889A5F581A3EC4, 0x6204D36708BED664, 0xEC1A128154426B22, 0xB0ECF9AAB35BC222,
    0x23511DFC408FF4E9, 0x71835D3A14AB6EA1, 0x6B3E473067D2C656, 0x5406A2D9C1A66AF0,
    0x0A62D62ABB99C0CB, 0xFDF78CBE9AAA13AB, 0x84A6D4AA3B15FCF2, 0xBCE961FE209E777C,
    0xAC66BB58B32C000D, 0x6F1CCFA53F2D1DB9, 0x65F995139F7BF5F6, 0x07B5EFEC2FA58F8A,
    0x2E2BE7B45C7B9DCB, 0xE5A402FB84118BF2, 0x04F59E36A15C5098, 0xCBF2728C35783352,
    0x2A71533C6AB91A46, 0xBF848F2F55F82815, 0xAE829793BD03040D, 0x9F24DE767E379901,
    0x8052546A1828B5F5, 0x2CCE8C7FC94F4FE4, 0xEFEA17A342970CA5, 0x098B3839729ACF9B,
    0x2B4B08EFEAF45766, 0x7F848D4ED857106F, 0x11BB5C34F0C4D4A1, 0xDBE0D7DA9AD56917,
    0x80A2DFCB7CA22071, 0xC3F3CF38A06297DB, 0xBFA7A02DD91C894F, 0xBF6DC56287C28948,
    0xBABA643F88607A8F, 0xE6EF822519D51A8B, 0x21DBBBBC202E6219, 0xA668E015E661C2EC,
    0x8713F8613BCD26C2, 0xE01D3E649DB1E307, 0x46F1EE6885FF4BAF, 0xA4DA3FBB74F52AA3,
    0xDF6126743CDB5CA4, 0xB48F4F9338E6E9CA, 0xE12A2E8CF26A900C, 0x95A7A9415CA7658B,
    0xE2EAA14EBAD72F28, 0x1155BE784AA2AAF0, 0xC32A9864B93C82CA, 0x4B6E58D299773950,
    0x4D457CF13DBBB003, 0x8EAD1CA1D8863E83, 0x6F37891FC096B4E9, 0x6D358A866D334B82,
    0xFA75E520758FB3B2, 0xB57EDA426750ED11, 0x1DA1A92615CB93F6, 0x08394467BFD653FE,
    0x245B3E7DEC8051F8, 0x41944DB55274102D, 0xE14AA3CEFD261372, 0x03CAA35139A62E58,
    0x53405ABBB5B37809, 0x3D63252446238D91, 0x5BD684EF26D2025E, 0x07BF8096FDCF584A,
    0x6C5BA033D1BF686F, 0x9E2C2C6F5B2731D2, 0x3CE404BCB8DDE43D
]
SIPHASH_MOD = [
    0x4464E36D49835AD4, 0x7588AAA7CF334082, 0x208A0CE74DDE830F, 0x7D9719685BA90287,
    0x3A780C44175D8AC8, 0x6770C13081A2A7D5, 0x0EE70405E7B6EF9D, 0x08E07028C8228769,
    0x5F6A4D057D14CD46, 0x28D5015A80B93867, 0x7EB17072702A6490, 0x1490B0D2A24080DB,
    0x1A35D979207414AB, 0x119756E44415FE70, 0x030C94163C3416AA, 0x3B7FABA09F7422B6,
    0x1C8ED37732D248BF, 0x305809DEE88D4F28, 0x3596CA6A45CFDD0B, 0x2C0FABCD346EACA7,
    0x68C7ADA331F873A2, 0x4E5609D9AFBF506A, 0x31D6E1B786E2A845, 0x1AF2BDC4116A23C3,
    0x642E7752BDA75725, 0x0861EEFD9EC217DE, 0x5CFA4C7CDEB8EE7E, 0x1EF06DF0515DA1DB,
    0x437FFF7B3BB18F8E, 0x41C06E7D6AC8E6B1, 0x1D51F44A5D639F9B, 0x1BF5A42251CB2704,
    0x00A6D7AC31CD0755, 0x3FDF88BE9176C98B, 0x7CE604ACC2D4E0FF, 0x696C808CAE5829E1,
    0x531A38756B08A9B0, 0x328616E11C74C35C, 0x3916A012166D9DDF, 0x16FB1ADBBE44C131,
    0x72A9B9C38ED0554C, 0x1A682E3D0E2AC422, 0x23470472F84F068F, 0x0DD47227C14840A9,
    0x756BF98C5614A0DC, 0x2B3AF5E1F87591CA, 0x2319EB59CE00A000, 0x2BB22EB2238FB6C3,
    0x5831C8CA5A65E337, 0x103764A9A5C7BF6F, 0x206AC458F30DC865, 0x331185D9E08A0388,
    0x26512AEEF459F5BF, 0x3EEECFABD73C6CC6, 0x7C861D9900EDCC94, 0x0B79A02FD46176A0,
    0x47AAE93FDBF73D2D, 0x30F100391F23766D, 0x14C91CC960DCBE2E, 0x290544C8CDFA4E79,
    0x222ECCAFC331AD71, 0x3D13D7C8ED41C96E, 0x310C2793F8E49A42, 0x3CD5E07DBD4A23A7,
    0x161CA153B595ECEE, 0x3D21D77782B6C701, 0x5BE2333A621740C0, 0x09ECB17ADE7CC110,
    0x268CD18DAAA73E73, 0x3B869AFEF7A18B23, 0x1BDD982A69AD7A15, 0x437F0E054C869235,
    0x6420C61EFBDEC962, 0x7B514BAA15489C7D, 0x61CD1A9C1D4604BE, 0x5126D76AD9C48E96,
    0x55F9C0121F2B528D, 0x777684868B5D9703, 0x6B3748F4FA7119A5, 0x42DE2C4C292056DA,
    0x14DC046AC4BA2D28, 0x78A87BD2551029FA, 0x4577486730D0432D, 0x35BD366EEE0E0B6C,
    0x43F3C35F4D9E880B, 0x3B89044C02160780, 0x680AFEA887C4861C, 0x408E387D3983A9F9,
    0x338BDA99D5DA7703, 0x6768706F36154BDC, 0x5C79DF9B600110BD, 0x203900F3A621F0DD,
    0x0A152C3D124DD9CF, 0x120628CF6F1B0F52, 0x0290FB36671938FF, 0x3AC4DD2AA423523F,
    0x532BAF0BBB444EAE, 0x0809B8435AF47DCE, 0x367EA61A715D9A70, 0x1E364404416E9949,
    0x2EB0098641AA65DE, 0x2E464639F0F119D0, 0x3FC9E9BB35266232, 0x46C42AA28C5F2B35,
    0x249051B1EF207127, 0x08595006CB140021, 0x27A936D205880E2B, 0x68D9D39AE4232C22,
    0x24C4C0DEAFAD86DA, 0x5FB2AA777C37F48A, 0x45773F166131F6E0, 0x4698F2B44C9F817A,
    0x59EA37A0C793F64C, 0x0468DE34C316B818, 0x3E2381C6D87DAD82, 0x48CF7AAD002CAE75,
    0x44FF83605434BB7D, 0x3104B5F8F5576033, 0x6FE806850CDEBFC1, 0x0BE43D73D879FD02,
    0x50AB5C795D9838E7, 0x4648589D7AEE6084, 0x771FE451AC428900, 0x05056C15A97A8D7C,
    0x194B18F631AAA202, 0x5F0F7FB38401BE31, 0x789F92198BA4E5A6, 0x0A3E4FF085424130,
    0x29AE61DC9F1D2657, 0x1DC6A4214006AC93, 0x4F5E3F7B50D98CC8
]
OTHER_FINGERPRINTS = [
    0x9AE16A3B2F90404F, 0xEABF3252CC3BF414, 0xED45DBD0299754F7, 0xD99EEDA07B1CB847,
    0x35573BB50DC1CB64, 0xCC4CACF059734921, 0xFCA851E3E5A84CD9, 0xF7584914D87A7FE8,
    0x14B9BC6F6D2837E0
]
OTHER_SIPHASH_MOD = [
    0x7CFF74566EF4006B, 0x5B420A4435AD2090, 0x4C0E9A48192A1F68, 0x7CCCA802FA349D40,
    0x5D486583BD480655, 0x522E73EC112EA938, 0x32677B7C01D67630, 0x484B7A5A85A43D9F,
    0x55A64BFDC60EA5B7
]
SIPHASH_KEY, OTHER_SIPHASH_KEY = (133, 137), (2 ** 63 - 1, 1)


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def values(output):
    """A layer's output as a NumPy array (int mode gives arrays, the others Tensors)."""
    return output.data if isinstance(output, Tensor) else np.asarray(output)


def packed(strings):
    data, offsets = string_bytes(np.array(strings, dtype=object), "test")
    return data, offsets, np.empty(len(strings), np.uint64)


# --- the hashes, bit for bit ----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS, ids=["compiled", "reference"])
def test_fingerprint64_is_tensorflows(backend):
    for strings, expected in ((STRINGS, FINGERPRINTS), (OTHERS, OTHER_FINGERPRINTS)):
        data, offsets, out = packed(strings)
        backend.fingerprint64(data, offsets, out)
        assert out.tolist() == expected


@pytest.mark.parametrize("backend", BACKENDS, ids=["compiled", "reference"])
def test_siphash64_is_tensorflows(backend):
    for strings, key, expected in ((STRINGS, SIPHASH_KEY, SIPHASH_MOD),
                                   (OTHERS, OTHER_SIPHASH_KEY, OTHER_SIPHASH_MOD)):
        data, offsets, out = packed(strings)
        backend.siphash64(data, offsets, *key, out)
        assert (out % np.uint64(MOD)).tolist() == expected


def test_kernels_match_their_twins_on_random_bytes():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 300, size=400)
    data = rng.integers(0, 256, size=int(lengths.sum()) + 7).astype(np.uint8)
    offsets = np.concatenate([[3], 3 + np.cumsum(lengths)]).astype(np.int64)  # from 3, not 0
    for key in ((0, 0), (2 ** 64 - 1, 12345), (int(rng.integers(2 ** 63)), 2 ** 63)):
        ours, twin = np.empty(400, np.uint64), np.empty(400, np.uint64)
        compiled.siphash64(data, offsets, *key, ours)
        reference.siphash64(data, offsets, *key, twin)
        np.testing.assert_array_equal(ours, twin)
    compiled.fingerprint64(data, offsets, ours)
    reference.fingerprint64(data, offsets, twin)
    np.testing.assert_array_equal(ours, twin)
    assert len(set(ours.tolist())) == len(set(data[o:p].tobytes() for o, p in
                                              zip(offsets[:-1], offsets[1:])))


def test_no_strings_and_empty_strings():
    for backend in BACKENDS:
        out = np.empty(0, np.uint64)
        backend.fingerprint64(np.empty(0, np.uint8), np.zeros(1, np.int64), out)
        out = np.empty(2, np.uint64)
        backend.fingerprint64(np.empty(0, np.uint8), np.zeros(3, np.int64), out)
        assert out.tolist() == [FINGERPRINTS[0]] * 2


def _good_arguments():
    return np.frombuffer(b"abcdef", np.uint8), np.array([0, 2, 6], np.int64), np.empty(2, np.uint64)


@pytest.mark.parametrize("backend", BACKENDS, ids=["compiled", "reference"])
@pytest.mark.parametrize("change, match", [
    (lambda d, o, out: (d.astype(np.int8), o, out), "data must be uint8"),
    (lambda d, o, out: (d, o.astype(np.int32), out), "offsets must be int64"),
    (lambda d, o, out: (d, o, out.astype(np.int64)), "out must be uint64"),
    (lambda d, o, out: (d, o[:2], out), r"offsets must have shape \(3,\)"),
    (lambda d, o, out: (d, np.array([0, 2, 7], np.int64), out), "at most len"),
    (lambda d, o, out: (d, np.array([-1, 2, 6], np.int64), out), "from 0 or more"),
    (lambda d, o, out: (d, np.array([0, 4, 2], np.int64), out), "fall"),
    (lambda d, o, out: (d, o, np.empty((2, 1), np.uint64)), "1 dimensions"),
    (lambda d, o, out: (d, o, np.empty(4, np.uint64)[::2]), "C-contiguous"),
    (lambda d, o, out: ([97, 98], o, out), "numpy array"),
])
def test_kernel_arguments_are_checked(backend, change, match):
    args = change(*_good_arguments())
    with pytest.raises(ValueError, match=match):
        backend.fingerprint64(*args)
    with pytest.raises(ValueError, match=match):
        backend.siphash64(args[0], args[1], 1, 2, args[2])


@pytest.mark.parametrize("backend", BACKENDS, ids=["compiled", "reference"])
def test_siphash_key_and_read_only_output_are_checked(backend):
    data, offsets, out = _good_arguments()
    for key in ((-1, 0), (0, 2 ** 64), (1.5, 0), (True, 1), ("1", 2)):
        with pytest.raises(ValueError, match="key"):
            backend.siphash64(data, offsets, *key, out)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        backend.fingerprint64(data, offsets, out)


def test_fingerprint_cat64_is_tensorflows_crossing():
    """tf.sparse.cross_hashed(..., num_buckets=2**62) of ("", -5, b"\\xff") and
    ("A", 0, b"A"): FingerprintCat64 from the seed 0xDECAFCAFFE over the features'
    fingerprints (an integer is its own)."""
    h = fingerprint_cat64(np.uint64(0xDECAFCAFFE), fingerprint64(np.array(["", "A"], object)))
    h = fingerprint_cat64(h, np.array([-5, 0]).view(np.uint64))
    h = fingerprint_cat64(h, fingerprint64(np.array([b"\xff", b"A"], object)))
    assert (h % np.uint64(2 ** 62)).tolist() == [1461306093047307299, 3358692302238356936]


def test_integers_are_hashed_as_their_decimal_text():
    ints = np.array([0, 1, -1, 42, 2 ** 40, -2 ** 63, 2 ** 63 - 1])
    texts = np.array([str(v) for v in ints.tolist()], dtype=object)
    np.testing.assert_array_equal(fingerprint64(ints), fingerprint64(texts))
    np.testing.assert_array_equal(siphash64(ints.astype(np.int32)[:4], (1, 2)),
                                  siphash64(texts[:4], (1, 2)))
    with pytest.raises(TypeError, match="strings or integers"):
        fingerprint64(np.array([1.5]))
    with pytest.raises(TypeError, match="int"):
        fingerprint64(np.array(["a", 3], dtype=object))


# --- Hashing, as tf_keras 2.21 ---------------------------------------------------------
def test_hashing_docstring_examples():
    five = [["A"], ["B"], ["C"], ["D"], ["E"]]
    out = layers.Hashing(num_bins=3)(five)
    assert out.dtype == np.int64 and out.shape == (5, 1)
    assert out.ravel().tolist() == [1, 0, 1, 1, 2]
    masked = layers.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])
    assert masked.ravel().tolist() == [1, 1, 0, 2, 2]
    assert layers.Hashing(num_bins=3, salt=[133, 137])(five).ravel().tolist() == [1, 2, 1, 0, 2]
    assert layers.Hashing(num_bins=3, salt=133)(five).ravel().tolist() == [0, 0, 2, 1, 0]


def test_hashing_integers_strings_and_bytes():
    ints = np.array([[0, 1, -1, 42, 2 ** 40, -2 ** 63, 2 ** 63 - 1]])
    expected = [[735, 849, 430, 736, 378, 112, 319]]
    assert layers.Hashing(1000)(ints).tolist() == expected
    assert layers.Hashing(1000)([[str(v) for v in ints[0].tolist()]]).tolist() == expected
    assert layers.Hashing(1000)(ints[:, :4].astype(np.int32)).tolist() == [expected[0][:4]]
    assert layers.Hashing(1000)(np.array([[0, 1, 255]], np.uint8)).tolist() == [[735, 849, 741]]
    # bytes are hashed as they are, str as UTF-8: the same bytes give the same bin
    assert layers.Hashing(1000)([[b"h\xc3\xa9llo", "héllo", b"\xff\xfe"]]).tolist() == [
        [151, 151, 139]]
    big = layers.Hashing(2 ** 62)([["", "A", "héllo", "x" * 100]])
    assert big.tolist() == [[1936946117179621455, 3080236001339896852, 3262255192197256439,
                             1978794067220662815]]


def test_hashing_salts_and_masks():
    assert layers.Hashing(1000, salt=[-1, 5])([["A"], ["B"]]).ravel().tolist() == [932, 864]
    salted = layers.Hashing(2 ** 31 - 1, salt=[2 ** 63 - 1, -2 ** 63])
    assert salted([["", "A", "héllo", "x" * 100]]).tolist() == [
        [1944076774, 583660366, 122056338, 813221004]]
    ints = np.array([[0, 1, -1, 42, 2 ** 40, -2 ** 63]])
    assert layers.Hashing(1000, salt=1337, mask_value=42)(ints).tolist() == [
        [291, 341, 92, 0, 998, 877]]
    assert layers.Hashing(5, mask_value=0)(np.array([[0, 1, 2, 3, 0]])).tolist() == [
        [0, 2, 4, 2, 0]]
    # one bin: everything in it, the mask too (Keras masks only when num_bins > 1)
    assert layers.Hashing(1, mask_value="")([["A"], [""]]).tolist() == [[0], [0]]
    assert layers.Hashing(3, mask_value=b"")([["A"], [""], [b""]]).ravel().tolist() == [1, 0, 0]


def test_hashing_shapes_and_output_modes():
    assert values(layers.Hashing(3)("A")).tolist() == 1
    assert layers.Hashing(3)(["A", "B"]).tolist() == [1, 0]
    assert layers.Hashing(3)([[["A", "B"]]]).tolist() == [[[1, 0]]]
    one_hot = layers.Hashing(3, output_mode="one_hot")
    expected = [[0, 1, 0], [1, 0, 0], [0, 1, 0]]
    for x in (["A", "B", "C"], [["A"], ["B"], ["C"]]):
        out = one_hot(x)
        assert isinstance(out, Tensor) and out.data.dtype == np.float32
        np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(values(one_hot("A")), [0, 1, 0])
    x = [["A", "B", "A"], ["C", "D", "E"]]
    np.testing.assert_array_equal(values(layers.Hashing(4, output_mode="multi_hot")(x)),
                                  [[1, 0, 0, 0], [1, 0, 0, 1]])
    counts = layers.Hashing(4, output_mode="count", mask_value="A")(x)
    np.testing.assert_array_equal(values(counts), [[2, 1, 0, 0], [0, 0, 2, 1]])
    np.testing.assert_array_equal(values(layers.Hashing(4, output_mode="count")(["A", "B", "A"])),
                                  [3, 0, 0, 0])
    double = layers.Hashing(3, output_mode="one_hot", dtype="float64")(["A", "B"])
    assert double.data.dtype == np.float64
    np.testing.assert_array_equal(double.data, [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="maximum supported output rank is 2"):
        one_hot([["A", "B"]])
    with pytest.raises(ValueError, match="maximum supported output rank is 2"):
        layers.Hashing(4, output_mode="multi_hot")([[["A"]]])


def test_hashing_dtypes():
    out = layers.Hashing(3, dtype="int32")([["A"]])
    assert out.dtype == np.int32 and out.tolist() == [[1]]
    floats = layers.Hashing(3, dtype="float32")  # as Keras: "int" mode gives int64 bins
    assert floats.dtype == "int64" and floats([["A"]]).dtype == np.int64
    # a Sequential not yet built is handed integer data as float32: whole numbers pass
    assert layers.Hashing(1000)(np.array([[0.0, 42.0]], np.float32)).tolist() == [[735, 736]]


@pytest.mark.parametrize("make, error, match", [
    (lambda: layers.Hashing(0), ValueError, "num_bins"),
    (lambda: layers.Hashing(None), ValueError, "num_bins"),
    (lambda: layers.Hashing(-3), ValueError, "num_bins"),
    (lambda: layers.Hashing(2.5), ValueError, "num_bins"),
    (lambda: layers.Hashing("3"), ValueError, "num_bins"),
    (lambda: layers.Hashing(True), ValueError, "num_bins"),
    (lambda: layers.Hashing(3, output_mode="tf_idf"), ValueError, "output_mode"),
    (lambda: layers.Hashing(3, sparse=True), ValueError, "`sparse` may only be true"),
    (lambda: layers.Hashing(3, output_mode="count", sparse=True), ValueError,
     "no sparse tensors"),
    (lambda: layers.Hashing(3, salt=[1, 2, 3]), ValueError, "salt"),
    (lambda: layers.Hashing(3, salt="a"), ValueError, "salt"),
    (lambda: layers.Hashing(3, salt=1.5), ValueError, "salt"),
    (lambda: layers.Hashing(3, salt=(1.5, 2)), ValueError, "salt"),
    (lambda: layers.Hashing(3, salt=[2 ** 63, 5]), ValueError, "salt"),
    (lambda: layers.Hashing(3, mask_value=1.5), TypeError, "mask_value"),
    (lambda: layers.Hashing(3, output_mode="one_hot", dtype="int32"), ValueError, "float"),
])
def test_hashing_refuses_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer, x, error, match", [
    (lambda: layers.Hashing(3), np.array([[0.5]]), TypeError, "floats"),
    (lambda: layers.Hashing(3), np.array([[np.nan]]), TypeError, "floats"),
    (lambda: layers.Hashing(3), np.array([[True]]), TypeError, "bool"),
    (lambda: layers.Hashing(3), [["a", "bc"], ["d"]], TypeError, "list"),
    (lambda: layers.Hashing(3, mask_value=0), [["A"]], TypeError, "mask_value=0"),
    (lambda: layers.Hashing(3, mask_value=""), np.array([[1]]), TypeError, "mask_value=''"),
])
def test_hashing_refuses_bad_inputs_by_name(layer, x, error, match):
    with pytest.raises(error, match=match) as caught:
        layer()(x)
    assert 'Hashing layer "hashing' in str(caught.value)


def test_hashing_config_is_keras():
    assert layers.Hashing(3).get_config() == {
        "name": "hashing", "trainable": True, "dtype": "int64", "num_bins": 3, "salt": None,
        "mask_value": None, "output_mode": "int", "sparse": False}
    layer = layers.Hashing(3, salt=133, mask_value="", output_mode="count")
    config = layer.get_config()
    assert config == {"name": "hashing_1", "trainable": True, "dtype": "float32", "num_bins": 3,
                      "salt": [133, 133], "mask_value": "", "output_mode": "count",
                      "sparse": False}
    assert list(config) == ["name", "trainable", "dtype", "num_bins", "salt", "mask_value",
                            "output_mode", "sparse"]
    assert layers.Hashing(3, dtype="int32").get_config()["dtype"] == "int32"
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is layers.Hashing and again.get_config() == config
    x = [["A", "B", "A"], ["C", "D", ""]]
    np.testing.assert_array_equal(values(again(x)), values(layer(x)))
    assert layers.experimental.preprocessing.Hashing is layers.Hashing


# --- HashedCrossing, as tf_keras 2.21 ---------------------------------------------------
FEATURE_1 = ["A", "B", "A", "B", "A"]
FEATURE_2 = np.array([101, 101, 101, 102, 102])


def test_hashed_crossing_docstring_examples():
    out = layers.HashedCrossing(num_bins=5)((FEATURE_1, FEATURE_2))
    assert out.dtype == np.int64 and out.tolist() == [1, 4, 1, 1, 3]
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((FEATURE_1, FEATURE_2))
    assert isinstance(one_hot, Tensor) and one_hot.data.dtype == np.float32
    np.testing.assert_array_equal(one_hot.data, [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1],
                                                 [0, 1, 0, 0, 0], [0, 1, 0, 0, 0],
                                                 [0, 0, 0, 1, 0]])


def test_hashed_crossing_features_and_shapes():
    cross = layers.HashedCrossing(1000)
    assert cross([FEATURE_1, FEATURE_2, FEATURE_1]).tolist() == [795, 364, 795, 661, 779]
    assert cross((FEATURE_1, FEATURE_2.astype(np.int32))).tolist() == [891, 754, 891, 576, 523]
    # an integer crosses as its value, its text as a string's fingerprint: other bins
    texts = [str(v) for v in FEATURE_2.tolist()]
    assert cross((FEATURE_1, texts)).tolist() == [847, 767, 847, 877, 786]
    assert cross((np.array([1, 2], np.uint8), np.array([3, 4], np.int32))).tolist() == [651, 547]
    a = ["", "héllo", "x" * 100, "A"]
    b = np.array([-5, 2 ** 40, -2 ** 63, 0])
    c = [b"\xff", b"q", b"", b"A"]
    assert layers.HashedCrossing(2 ** 62)((a, b, c)).tolist() == [
        1461306093047307299, 3782778665033043938, 242462561453245796, 3358692302238356936]
    column = layers.HashedCrossing(5)((np.array(FEATURE_1)[:, None], FEATURE_2[:, None]))
    assert column.shape == (5, 1) and column.ravel().tolist() == [1, 4, 1, 1, 3]
    assert values(layers.HashedCrossing(5)(("A", 101))).tolist() == 1
    np.testing.assert_array_equal(
        values(layers.HashedCrossing(7, output_mode="one_hot")(
            (np.array(a, object)[:, None], np.array(c, object)[:, None]))),
        [[0, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0],
         [0, 0, 0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(
        values(layers.HashedCrossing(5, output_mode="one_hot")(("A", 101))), [0, 1, 0, 0, 0])
    assert layers.HashedCrossing(5, dtype="int32")((FEATURE_1, FEATURE_2)).dtype == np.int32
    # sparse=True in "int" mode changes nothing in Keras either
    assert layers.HashedCrossing(5, sparse=True)((FEATURE_1, FEATURE_2)).tolist() == [
        1, 4, 1, 1, 3]


@pytest.mark.parametrize("make, match", [
    (lambda: layers.HashedCrossing(5, output_mode="multi_hot"), "output_mode"),
    (lambda: layers.HashedCrossing(0), "num_bins"),
    (lambda: layers.HashedCrossing(-3), "num_bins"),
    (lambda: layers.HashedCrossing(None), "num_bins"),
    (lambda: layers.HashedCrossing(5, dtype="float32"), "integer type"),
    (lambda: layers.HashedCrossing(5, output_mode="one_hot", sparse=True), "no sparse tensors"),
])
def test_hashed_crossing_refuses_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("inputs, error, match", [
    (np.array(FEATURE_1), ValueError, "list or tuple"),
    ([FEATURE_1], ValueError, "at least two inputs"),
    ((FEATURE_1, FEATURE_2[:4]), ValueError, "equal shape"),
    ((FEATURE_1, FEATURE_2[:, None]), ValueError, "equal shape"),
    (([FEATURE_1, FEATURE_1], [FEATURE_2, FEATURE_2]), ValueError, r"\(batch_size, 1\)"),
    ((np.array(FEATURE_1)[:, None, None], FEATURE_2[:, None, None]), ValueError,
     r"\(batch_size, 1\)"),
    ((FEATURE_1, FEATURE_2 + 0.5), TypeError, "floats"),
    ((FEATURE_1, FEATURE_2 > 101), TypeError, "bool"),
])
def test_hashed_crossing_refuses_bad_inputs_by_name(inputs, error, match):
    with pytest.raises(error, match=match) as caught:
        layers.HashedCrossing(5)(inputs)
    assert 'HashedCrossing layer "hashed_crossing' in str(caught.value)


def test_hashed_crossing_config_is_keras():
    assert layers.HashedCrossing(5).get_config() == {
        "name": "hashed_crossing", "trainable": True, "dtype": "int64", "num_bins": 5,
        "output_mode": "int", "sparse": False}
    layer = layers.HashedCrossing(5, output_mode="one_hot")
    assert layer.get_config() == {
        "name": "hashed_crossing_1", "trainable": True, "dtype": "float32", "num_bins": 5,
        "output_mode": "one_hot", "sparse": False}
    again = layers.deserialize(layers.serialize(layer))
    np.testing.assert_array_equal(values(again((FEATURE_1, FEATURE_2))),
                                  values(layer((FEATURE_1, FEATURE_2))))
    assert layers.experimental.preprocessing.HashedCrossing is layers.HashedCrossing


# --- in models: shapes in summary(), saved and loaded ---------------------------------
def test_models_summary_shapes_and_save_load(tmp_path, capsys):
    words = minidl.Input(shape=(1,), dtype="string")
    model = minidl.Model(words, layers.Hashing(3, output_mode="one_hot")(words))
    model.summary()
    assert "hashing (Hashing)           (None, 3)                 0" in capsys.readouterr().out
    np.testing.assert_array_equal(model.predict(np.array([["A"], ["B"], ["C"]]), verbose=0),
                                  [[0, 1, 0], [1, 0, 0], [0, 1, 0]])
    ints = minidl.Input(shape=(4,), dtype="int64")
    model = minidl.Model(ints, layers.Hashing(8, output_mode="multi_hot")(ints))
    assert model.output_shape == (None, 8)
    a, b = minidl.Input(shape=(), dtype="string"), minidl.Input(shape=(), dtype="int64")
    model = minidl.Model([a, b], layers.HashedCrossing(5, output_mode="one_hot")((a, b)))
    assert model.output_shape == (None, 5)

    a, b = minidl.Input(shape=(1,), dtype="string"), minidl.Input(shape=(1,), dtype="int64")
    crossed = layers.HashedCrossing(5)((a, b))
    assert tuple(crossed.shape) == (None, 1)
    hashed = layers.Hashing(4, salt=[3, 4], mask_value="")(a)
    joined = layers.Concatenate()([layers.Flatten()(layers.Embedding(5, 2)(crossed)),
                                   layers.Flatten()(layers.Embedding(4, 2)(hashed))])
    model = minidl.Model([a, b], layers.Dense(1, activation="sigmoid")(joined))
    model.compile("adam", "binary_crossentropy")
    xa, xb = np.array(FEATURE_1 + [""])[:, None], np.append(FEATURE_2, 7)[:, None]
    model.fit([xa, xb], np.array([1, 0, 1, 0, 1, 0.0]), epochs=2, verbose=0)
    expected = model.predict([xa, xb], verbose=0)
    model.save(tmp_path / "model.mdl")
    loaded = load_model(tmp_path / "model.mdl")
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0), expected)
    names = {type(layer).__name__: layer for layer in loaded.layers}
    assert names["Hashing"].get_config()["salt"] == [3, 4]


def test_keras_3_file_with_both_layers_loads_and_predicts_as_keras():
    pytest.importorskip("h5py")  # Keras 3's .keras keeps its weights in HDF5
    model = load_model(FIXTURES / "hashing.keras")
    cases = json.loads((FIXTURES / "outputs.json").read_text())
    words = np.array(cases["inputs"]["words"], dtype=object)
    predicted = model.predict([words, np.array(cases["inputs"]["ids"])], verbose=0)
    np.testing.assert_allclose(predicted, cases["outputs"], rtol=1e-5, atol=1e-6)
    configs = {type(layer).__name__: layer.get_config() for layer in model.layers}
    assert configs["Hashing"]["salt"] == [3, 4] and configs["Hashing"]["mask_value"] == ""
    assert configs["HashedCrossing"]["num_bins"] == 8


def test_sequential_with_integer_data():
    model = minidl.Sequential([layers.Hashing(8)])
    assert model.predict(np.array([[1, 2]]), verbose=0).tolist() == [[1, 7]]
    model = minidl.Sequential([layers.Hashing(8, output_mode="multi_hot"), layers.Dense(2)])
    assert model.predict(np.array([[1, 2]]), verbose=0).shape == (1, 2)


# --- StringLookup / IntegerLookup with several OOV indices ----------------------------
LOOKUP_X = [["a", "z", "b", "zebra"], ["", "héllo", "d", "[UNK]"], ["x" * 70, "q", "c", "yy"]]


def test_string_lookup_spreads_unknown_strings_as_keras():
    lookup = layers.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=3)
    assert lookup.get_vocabulary() == ["[UNK]"] * 3 + ["a", "b", "c", "d"]
    assert lookup(LOOKUP_X).tolist() == [[3, 1, 4, 2], [2, 2, 6, 0], [0, 2, 5, 1]]
    masked = layers.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=3,
                                 mask_token="")
    assert masked(LOOKUP_X).tolist() == [[4, 2, 5, 3], [0, 3, 7, 1], [1, 3, 6, 2]]
    counts = layers.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=5,
                                 output_mode="count")
    np.testing.assert_array_equal(values(counts(LOOKUP_X)), [
        [0, 0, 2, 0, 0, 1, 1, 0, 0], [1, 1, 0, 1, 0, 0, 0, 0, 1], [1, 0, 1, 1, 0, 0, 0, 1, 0]])
    adapted = layers.StringLookup(num_oov_indices=2)
    adapted.adapt(["a", "a", "b", "c", "c", "c"])
    assert adapted.get_vocabulary() == ["[UNK]", "[UNK]", "c", "a", "b"]
    assert adapted([["a", "zz", "c", "e", "f"]]).tolist() == [[3, 0, 2, 1, 0]]
    inverted = layers.StringLookup(vocabulary=["a", "b", "c", "d"], num_oov_indices=2,
                                   invert=True)
    assert inverted([[0, 1, 2, 5, 6]]).tolist() == [["[UNK]", "[UNK]", "a", "d", "[UNK]"]]
    assert inverted.get_config()["num_oov_indices"] == 2
    again = layers.deserialize(layers.serialize(lookup))
    assert again(LOOKUP_X).tolist() == lookup(LOOKUP_X).tolist()


def test_integer_lookup_several_oov_indices_floor_mod():
    lookup = layers.IntegerLookup(vocabulary=[12, 36], num_oov_indices=3)
    assert lookup([[12, -7, 5, 36, 100]]).tolist() == [[3, 2, 2, 4, 1]]
