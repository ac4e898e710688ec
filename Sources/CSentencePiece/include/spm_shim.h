// A small C API over libsentencepiece, so Swift targets never see C++.
#ifndef LEP_SPM_SHIM_H
#define LEP_SPM_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque handle to a loaded SentencePiece processor.
typedef struct lep_spm lep_spm;

/// Piece types, mirroring sentencepiece::ModelProto::SentencePiece::Type.
enum lep_spm_piece_type {
    LEP_SPM_NORMAL = 1,
    LEP_SPM_UNKNOWN = 2,
    LEP_SPM_CONTROL = 3,
    LEP_SPM_USER_DEFINED = 4,
    LEP_SPM_UNUSED = 5,
    LEP_SPM_BYTE = 6,
};

/// Loads a serialized model. Returns NULL and writes a message into `err` (if non-NULL) on failure.
lep_spm *lep_spm_load(const void *bytes, size_t length, char *err, size_t err_cap);
/// Frees a processor returned by lep_spm_load.
void lep_spm_free(lep_spm *spm);

/// Number of pieces in the vocabulary.
int32_t lep_spm_piece_size(const lep_spm *spm);
/// The piece for `id`, as UTF-8 bytes owned by the processor (valid until lep_spm_free); length in *len.
const char *lep_spm_id_to_piece(const lep_spm *spm, int32_t id, size_t *len);
/// The id of `piece`, or the unknown id when absent.
int32_t lep_spm_piece_to_id(const lep_spm *spm, const char *piece, size_t len);
/// Score of a piece.
float lep_spm_score(const lep_spm *spm, int32_t id);
/// Type of a piece (lep_spm_piece_type). USER_DEFINED is reported as NORMAL: read the model proto for
/// the exact type.
int32_t lep_spm_type(const lep_spm *spm, int32_t id);
/// Special ids (-1 when absent).
int32_t lep_spm_unk_id(const lep_spm *spm);
int32_t lep_spm_bos_id(const lep_spm *spm);
int32_t lep_spm_eos_id(const lep_spm *spm);
int32_t lep_spm_pad_id(const lep_spm *spm);
/// Encodes UTF-8 text into ids. Writes up to `cap` ids into `out` and returns the total count
/// (call again with a larger buffer when the count exceeds cap); returns -1 on error.
int64_t lep_spm_encode(const lep_spm *spm, const char *text, size_t len, int32_t *out, size_t cap);
/// Decodes ids into UTF-8 text. Writes up to `cap` bytes and returns the full length; -1 on error.
int64_t lep_spm_decode(const lep_spm *spm, const int32_t *ids, size_t n, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
