// Task metrics (tasks/metrics.hpp), each written to reproduce its reference implementation:
//   accuracy, F1, macro F1, MCC   sklearn.metrics with zero_division=0: F1_c = 2 tp / (2 tp + fp + fn), 0 if tp = 0;
//                                 MCC = (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)), 0 if a factor is 0
//   pearson, spearman             np.corrcoef; scipy.stats.spearmanr = Pearson on average (1-based) ranks;
//                                 0 (not NaN) when either input has zero variance, so a constant prediction
//                                 scores "no correlation" instead of poisoning an average
//   squad_*                       the official SQuAD v1.1 evaluate-v1.1.py (normalize_answer, exact_match_score,
//                                 f1_score, metric_max_over_ground_truths)
//   choose_acc / choose_acc_norm  lm-eval-harness acc / acc_norm (np.argmax: the first maximum wins)
// Every vector metric throws config_error on empty inputs or inputs of different lengths.
#include "tasks/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>

#include "core/error.hpp"

namespace wtasim {

namespace {

template <class A, class B>
void require_same_size(const char* metric, const std::vector<A>& a, const std::vector<B>& b) {
    if (a.empty() || a.size() != b.size())
        throw config_error(std::string(metric) + ": predicted/x has " + std::to_string(a.size()) +
                           " values and gold/y has " + std::to_string(b.size()) +
                           ", expected the same non-zero number");
}

double f1_from_counts(std::size_t tp, std::size_t fp, std::size_t fn) {
    // sklearn with zero_division=0: precision or recall undefined (or both 0) -> F1 = 0.
    if (tp == 0) return 0.0;
    return 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
}

double pearson_unchecked(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0.0 || syy == 0.0) return 0.0;
    return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);  // np.corrcoef clips rounding past +-1 too
}

// 1-based ranks; a run of ties shares the mean of the ranks it spans (scipy.stats.rankdata 'average').
std::vector<double> average_ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> rank(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i + 1;
        while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
        const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
        for (std::size_t k = i; k < j; ++k) rank[order[k]] = mean_rank;
        i = j;
    }
    return rank;
}

// ---- SQuAD normalize_answer on UTF-8 text --------------------------------------------------------------
// Python applies lower(), the ASCII string.punctuation filter, re.sub(r'\b(a|an|the)\b', ' ') with Unicode
// word boundaries, and ' '.join(split()) with Unicode whitespace. ASCII is reproduced exactly. Beyond ASCII:
// lower() covers Latin-1, Latin Extended-A, the regular pairs of Latin Extended-B / Additional, Greek (with
// the final-sigma rule) and Cyrillic; other scripts and the irregular Extended-B capitals keep their case.
// \w is exact through U+052F and for general / CJK / fullwidth punctuation, currency, symbols and emoji;
// any other code point counts as a letter. (Checked against the Python script on random strings.)
// Bytes that are not valid UTF-8 pass through unchanged and count as word characters.

constexpr char32_t raw_byte = 0x110000;  // raw_byte + b: an undecodable byte b, re-emitted as is

std::vector<char32_t> decode_utf8(const std::string& s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            ok = (b & 0xC0) == 0x80;
            cp = (cp << 6) | (b & 0x3F);
        }
        constexpr char32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};  // reject overlong forms and surrogates
        ok = ok && cp >= min_cp[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        if (ok) {
            out.push_back(cp);
            i += len;
        } else {
            out.push_back(raw_byte + b0);
            ++i;
        }
    }
    return out;
}

std::string encode_utf8(const std::vector<char32_t>& cps) {
    std::string out;
    out.reserve(cps.size());
    for (const char32_t c : cps) {
        if (c >= raw_byte) {
            out.push_back(static_cast<char>(c - raw_byte));
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

// Python str.isspace(), which str.split() splits on.
bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python re's \w for str patterns (letters, digits, numerics and '_'), approximated beyond ASCII.
bool is_word(char32_t c) {
    if (c >= raw_byte) return true;
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (is_space(c)) return false;
    if (c <= 0xBF)  // Latin-1 punctuation and symbols, except ª ² ³ µ ¹ º ¼ ½ ¾
        return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA || (c >= 0xBC && c <= 0xBE);
    if (c == 0xD7 || c == 0xF7) return false;  // × ÷
    // Ranges below from Python: [c for c in range(...) if not re.match(r'\w', chr(c)) and not chr(c).isspace()]
    const bool symbol = (c >= 0x2C2 && c <= 0x2C5) || (c >= 0x2D2 && c <= 0x2DF) ||  // modifier symbols
                        (c >= 0x2E5 && c <= 0x2EB) || c == 0x2ED ||                  //
                        (c >= 0x2EF && c <= 0x36F) ||                                // ... and combining marks
                        c == 0x375 || c == 0x37E || c == 0x384 || c == 0x385 || c == 0x387 || c == 0x3F6 ||  // Greek
                        (c >= 0x482 && c <= 0x489) ||    // Cyrillic signs
                        (c >= 0x200B && c <= 0x206F) ||  // general punctuation: format, dashes, quotes
                        (c >= 0x20A0 && c <= 0x20CF) ||  // currency
                        (c >= 0x2190 && c <= 0x23FF) ||  // arrows, mathematical operators, technical
                        (c >= 0x2500 && c <= 0x27BF) ||  // box drawing, shapes, dingbats
                        (c >= 0x3001 && c <= 0x3004) || (c >= 0x3008 && c <= 0x3020) ||  // CJK punctuation
                        (c >= 0x302A && c <= 0x3030) || c == 0x3036 || c == 0x3037 || (c >= 0x303D && c <= 0x303F) ||
                        (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||  // fullwidth punctuation
                        (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||  //
                        (c >= 0x1F000 && c <= 0x1FAFF);                                  // emoji and pictographs
    return !symbol;
}

// Unicode "cased" and "case-ignorable" for the blocks we lower-case: they decide Σ's final form.
bool is_cased(char32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == 0xAA || c == 0xB5 || c == 0xBA ||
           (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x386 && c <= 0x3FF && c != 0x387) ||
           (c >= 0x400 && c <= 0x52F && !(c >= 0x482 && c <= 0x489)) || (c >= 0x1E00 && c <= 0x1EFF);
}
bool is_case_ignorable(char32_t c) {
    return c == '\'' || c == '.' || c == ':' || c == '^' || c == '`' || c == 0xA8 || c == 0xAD || c == 0xAF ||
           c == 0xB4 || c == 0xB7 || c == 0xB8 || (c >= 0x300 && c <= 0x36F) || c == 0x2018 || c == 0x2019 ||
           c == 0x2024 || c == 0x2027 || (c >= 0x200B && c <= 0x200F);
}

// Python str.lower() for the blocks named above; appends one or two code points.
void append_lower(std::vector<char32_t>& out, const std::vector<char32_t>& in, std::size_t i) {
    const char32_t c = in[i];
    if (c >= 'A' && c <= 'Z') return out.push_back(c + 32);
    if (c < 0xC0 || c >= raw_byte) return out.push_back(c);
    if (c <= 0xDE && c != 0xD7) return out.push_back(c + 32);  // À..Þ
    if (c == 0x130) {                                          // İ lowers to i + combining dot above
        out.push_back('i');
        return out.push_back(0x307);
    }
    if (c == 0x178) return out.push_back(0xFF);   // Ÿ -> ÿ
    if (c == 0x4C0) return out.push_back(0x4CF);  // Ӏ -> ӏ
    if (c == 0x1E9E) return out.push_back(0xDF);  // ẞ -> ß
    // Alternating upper/lower pairs (Latin Extended-A/B/Additional, Greek, Cyrillic): the code point with the
    // parity of the range's first one is the capital, and its lower case follows it.
    static constexpr std::pair<char32_t, char32_t> pairs[] = {
        {0x100, 0x12F}, {0x132, 0x137}, {0x139, 0x148}, {0x14A, 0x177},   {0x179, 0x17E},  {0x1CD, 0x1DC},
        {0x1DE, 0x1EF}, {0x1F8, 0x21F}, {0x222, 0x233}, {0x246, 0x24F},   {0x3D8, 0x3EF},  {0x460, 0x481},
        {0x48A, 0x4BF}, {0x4C1, 0x4CE}, {0x4D0, 0x52F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF}};
    for (const auto& [first, last] : pairs) {
        if (c >= first && c <= last) return out.push_back((c - first) % 2 == 0 ? c + 1 : c);
    }
    if (c == 0x3A3) {  // Σ -> ς after a cased letter and not before one (case-ignorables skipped), else σ
        std::size_t b = i, e = i + 1;
        while (b > 0 && is_case_ignorable(in[b - 1])) --b;
        while (e < in.size() && is_case_ignorable(in[e])) ++e;
        const bool final = b > 0 && is_cased(in[b - 1]) && !(e < in.size() && is_cased(in[e]));
        return out.push_back(final ? 0x3C2 : 0x3C3);
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return out.push_back(c + 32);
    if (c == 0x386) return out.push_back(0x3AC);
    if (c >= 0x388 && c <= 0x38A) return out.push_back(c + 37);
    if (c == 0x38C) return out.push_back(0x3CC);
    if (c == 0x38E || c == 0x38F) return out.push_back(c + 63);
    if (c >= 0x400 && c <= 0x40F) return out.push_back(c + 80);
    if (c >= 0x410 && c <= 0x42F) return out.push_back(c + 32);
    out.push_back(c);
}

bool is_ascii_punctuation(char32_t c) {  // Python string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

bool is_article(const std::vector<char32_t>& s, std::size_t b, std::size_t e) {
    auto eq = [&](const char* w) {
        std::size_t k = 0;
        for (; w[k] != '\0'; ++k)
            if (b + k >= e || s[b + k] != static_cast<char32_t>(w[k])) return false;
        return b + k == e;
    };
    return eq("a") || eq("an") || eq("the");
}

std::vector<std::string> squad_tokens(const std::string& answer) {
    const std::string n = squad_normalize(answer);
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < n.size();) {  // normalised text is single-space separated
        const std::size_t j = std::min(n.find(' ', i), n.size());
        tokens.push_back(n.substr(i, j - i));
        i = j + 1;
    }
    return tokens;
}

void require_golds(const char* metric, const std::vector<std::string>& golds) {
    if (golds.empty()) throw config_error(std::string(metric) + ": no gold answers, expected at least one");
}

void require_choices(const char* metric, const choice_scores& s) {
    if (s.loglik.empty() || s.loglik.size() != s.cont_bytes.size())
        throw config_error(std::string(metric) + ": " + std::to_string(s.loglik.size()) + " log-likelihoods and " +
                           std::to_string(s.cont_bytes.size()) +
                           " continuation lengths, expected the same non-zero number");
    for (std::size_t i = 0; i < s.loglik.size(); ++i) {
        if (std::isnan(s.loglik[i]))
            throw config_error(std::string(metric) + ": loglik[" + std::to_string(i) + "] = nan, expected a number");
    }
}

int first_argmax(const std::vector<double>& v) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;  // strict: ties keep the first choice
    return static_cast<int>(best);
}

}  // namespace

double accuracy(const std::vector<int>& predicted, const std::vector<int>& gold) {
    require_same_size("accuracy", predicted, gold);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) correct += predicted[i] == gold[i] ? 1 : 0;
    return static_cast<double>(correct) / static_cast<double>(gold.size());
}

double f1_binary(const std::vector<int>& predicted, const std::vector<int>& gold, int positive) {
    require_same_size("f1_binary", predicted, gold);
    std::size_t tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
        const bool p = predicted[i] == positive, g = gold[i] == positive;
        tp += p && g ? 1 : 0;
        fp += p && !g ? 1 : 0;
        fn += !p && g ? 1 : 0;
    }
    return f1_from_counts(tp, fp, fn);
}

double f1_macro(const std::vector<int>& predicted, const std::vector<int>& gold, int classes) {
    require_same_size("f1_macro", predicted, gold);
    if (classes < 1) throw config_error("f1_macro: classes = " + std::to_string(classes) + ", must be >= 1");
    // Labels outside 0..classes-1 are no class's true positive (sklearn's labels= argument): they only add
    // false negatives / false positives to the classes they are confused with.
    const auto k = static_cast<std::size_t>(classes);
    std::vector<std::size_t> tp(k, 0), fp(k, 0), fn(k, 0);
    auto in_range = [&](int c) { return c >= 0 && c < classes; };
    for (std::size_t i = 0; i < gold.size(); ++i) {
        const int p = predicted[i], g = gold[i];
        if (p == g) {
            if (in_range(p)) ++tp[static_cast<std::size_t>(p)];
            continue;
        }
        if (in_range(p)) ++fp[static_cast<std::size_t>(p)];
        if (in_range(g)) ++fn[static_cast<std::size_t>(g)];
    }
    double sum = 0.0;
    for (std::size_t c = 0; c < k; ++c) sum += f1_from_counts(tp[c], fp[c], fn[c]);
    return sum / static_cast<double>(k);
}

double matthews_corrcoef(const std::vector<int>& predicted, const std::vector<int>& gold) {
    require_same_size("matthews_corrcoef", predicted, gold);
    double tp = 0, tn = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
        for (const int v : {predicted[i], gold[i]}) {
            if (v != 0 && v != 1)
                throw config_error("matthews_corrcoef: label at index " + std::to_string(i) + " = " +
                                   std::to_string(v) + ", expected 0 or 1");
        }
        const bool p = predicted[i] == 1, g = gold[i] == 1;
        (p ? (g ? tp : fp) : (g ? fn : tn)) += 1;
    }
    const double denom = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);  // doubles: no overflow on large sets
    if (denom == 0.0) return 0.0;
    return (tp * tn - fp * fn) / std::sqrt(denom);
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    require_same_size("pearson", x, y);
    return pearson_unchecked(x, y);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    require_same_size("spearman", x, y);
    return pearson_unchecked(average_ranks(x), average_ranks(y));
}

std::string squad_normalize(const std::string& answer) {
    const std::vector<char32_t> in = decode_utf8(answer);
    std::vector<char32_t> s;  // lower(), then drop string.punctuation
    s.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (!is_ascii_punctuation(in[i])) append_lower(s, in, i);
    }
    // \b(a|an|the)\b matches exactly the maximal runs of word characters that spell an article; they become
    // a space. Then every run of whitespace becomes one space, with none at either end.
    std::vector<char32_t> out;
    out.reserve(s.size());
    bool pending_space = false;
    for (std::size_t i = 0; i < s.size();) {
        if (is_space(s[i])) {
            pending_space = true;
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        if (is_word(s[i])) {
            while (j < s.size() && is_word(s[j])) ++j;
            if (is_article(s, i, j)) {
                pending_space = true;
                i = j;
                continue;
            }
        }
        if (pending_space && !out.empty()) out.push_back(' ');
        pending_space = false;
        out.insert(out.end(), s.begin() + static_cast<std::ptrdiff_t>(i), s.begin() + static_cast<std::ptrdiff_t>(j));
        i = j;
    }
    return encode_utf8(out);
}

double squad_exact_match(const std::string& prediction, const std::vector<std::string>& golds) {
    require_golds("squad_exact_match", golds);
    const std::string p = squad_normalize(prediction);
    for (const auto& g : golds)
        if (squad_normalize(g) == p) return 1.0;
    return 0.0;
}

double squad_f1(const std::string& prediction, const std::vector<std::string>& golds) {
    require_golds("squad_f1", golds);
    const std::vector<std::string> pred = squad_tokens(prediction);
    double best = 0.0;
    for (const auto& g : golds) {
        const std::vector<std::string> gold = squad_tokens(g);
        std::map<std::string, long> count;  // Counter(prediction) & Counter(gold): multiset intersection
        for (const auto& t : pred) ++count[t];
        long same = 0;
        for (const auto& t : gold) {
            auto it = count.find(t);
            if (it != count.end() && it->second > 0) {
                --it->second;
                ++same;
            }
        }
        if (same == 0) continue;  // the official script returns 0 here (also for two empty answers)
        const double precision = 1.0 * static_cast<double>(same) / static_cast<double>(pred.size());
        const double recall = 1.0 * static_cast<double>(same) / static_cast<double>(gold.size());
        best = std::max(best, (2 * precision * recall) / (precision + recall));
    }
    return best;
}

int choose_acc(const choice_scores& s) {
    require_choices("choose_acc", s);
    return first_argmax(s.loglik);
}

int choose_acc_norm(const choice_scores& s) {
    require_choices("choose_acc_norm", s);
    std::vector<double> per_byte(s.loglik.size());
    for (std::size_t i = 0; i < s.loglik.size(); ++i) {
        if (s.cont_bytes[i] == 0)
            throw config_error("choose_acc_norm: cont_bytes[" + std::to_string(i) + "] = 0, must be >= 1");
        per_byte[i] = s.loglik[i] / static_cast<double>(s.cont_bytes[i]);
    }
    return first_argmax(per_byte);
}

int majority_label(const std::vector<int>& train) {
    std::map<int, std::size_t> count;  // ordered: the first label with the top count is the smallest
    for (const int l : train)
        if (l >= 0) ++count[l];
    if (count.empty())
        throw config_error("majority_label: " + std::to_string(train.size()) +
                           " training labels, none >= 0; expected at least one labelled example");
    int best = count.begin()->first;
    for (const auto& [label, n] : count)
        if (n > count[best]) best = label;
    return best;
}

}  // namespace wtasim
