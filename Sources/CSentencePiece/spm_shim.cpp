// extern "C" wrapper over sentencepiece::SentencePieceProcessor (libsentencepiece-dev).
#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct lep_spm {
    sentencepiece::SentencePieceProcessor processor;
};

static void write_error(char *err, size_t cap, const std::string &message) {
    if (err == nullptr || cap == 0) return;
    size_t n = message.size() < cap - 1 ? message.size() : cap - 1;
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
}

extern "C" {

lep_spm *lep_spm_load(const void *bytes, size_t length, char *err, size_t err_cap) {
    try {
        auto spm = std::make_unique<lep_spm>();
        auto status = spm->processor.LoadFromSerializedProto(
            std::string(static_cast<const char *>(bytes), length));
        if (!status.ok()) {
            write_error(err, err_cap, status.ToString());
            return nullptr;
        }
        return spm.release();
    } catch (const std::exception &e) {
        write_error(err, err_cap, e.what());
        return nullptr;
    }
}

void lep_spm_free(lep_spm *spm) { delete spm; }

int32_t lep_spm_piece_size(const lep_spm *spm) { return spm->processor.GetPieceSize(); }

const char *lep_spm_id_to_piece(const lep_spm *spm, int32_t id, size_t *len) {
    const std::string &piece = spm->processor.IdToPiece(id);
    *len = piece.size();
    return piece.data();
}

int32_t lep_spm_piece_to_id(const lep_spm *spm, const char *piece, size_t len) {
    return spm->processor.PieceToId(std::string(piece, len));
}

float lep_spm_score(const lep_spm *spm, int32_t id) { return spm->processor.GetScore(id); }

int32_t lep_spm_type(const lep_spm *spm, int32_t id) {
    const auto &p = spm->processor;
    if (p.IsUnknown(id)) return LEP_SPM_UNKNOWN;
    if (p.IsControl(id)) return LEP_SPM_CONTROL;
    if (p.IsUnused(id)) return LEP_SPM_UNUSED;
    if (p.IsByte(id)) return LEP_SPM_BYTE;
    return LEP_SPM_NORMAL;
}

int32_t lep_spm_unk_id(const lep_spm *spm) { return spm->processor.unk_id(); }
int32_t lep_spm_bos_id(const lep_spm *spm) { return spm->processor.bos_id(); }
int32_t lep_spm_eos_id(const lep_spm *spm) { return spm->processor.eos_id(); }
int32_t lep_spm_pad_id(const lep_spm *spm) { return spm->processor.pad_id(); }

int64_t lep_spm_encode(const lep_spm *spm, const char *text, size_t len, int32_t *out, size_t cap) {
    std::vector<int> ids;
    auto status = spm->processor.Encode(std::string(text, len), &ids);
    if (!status.ok()) return -1;
    for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
    return static_cast<int64_t>(ids.size());
}

int64_t lep_spm_decode(const lep_spm *spm, const int32_t *ids, size_t n, char *out, size_t cap) {
    std::vector<int> v(ids, ids + n);
    std::string text;
    auto status = spm->processor.Decode(v, &text);
    if (!status.ok()) return -1;
    std::memcpy(out, text.data(), text.size() < cap ? text.size() : cap);
    return static_cast<int64_t>(text.size());
}

}  // extern "C"
