// The standard task-format readers (tasks/formats.hpp) on hand-written fixtures in tests/data/tasks that
// copy the real distribution files' layouts (GLUE TSV, BoolQ, ARC / OpenBookQA in AI2 and Hugging Face
// layouts, PIQA, HellaSwag, WinoGrande, SQuAD v1.1), and one exact error message per malformed fixture.
#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "tasks/formats.hpp"

using namespace wtasim;

namespace {
const std::string dir = WTASIM_TEST_DATA_DIR "/tasks/";

std::string error_of(auto&& read) {
    try {
        read();
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no config_error)";
}
}  // namespace

TEST_CASE("task formats: kind names and GLUE task table") {
    CHECK(std::string(task_kind_name(task_kind::classification)) == "classification");
    CHECK(std::string(task_kind_name(task_kind::pair_classification)) == "pair_classification");
    CHECK(std::string(task_kind_name(task_kind::regression)) == "regression");
    CHECK(std::string(task_kind_name(task_kind::tagging)) == "tagging");
    CHECK(std::string(task_kind_name(task_kind::span_qa)) == "span_qa");
    CHECK(std::string(task_kind_name(task_kind::multiple_choice)) == "multiple_choice");

    const auto mnli = glue_task("mnli");
    CHECK(mnli.name == "mnli");
    CHECK(mnli.kind == task_kind::pair_classification);
    CHECK(mnli.metric == "accuracy");
    CHECK(mnli.labels == std::vector<std::string>{"contradiction", "entailment", "neutral"});
    CHECK(mnli.train.empty());
    CHECK(mnli.valid.empty());
    CHECK(mnli.test.empty());
    const auto cola = glue_task("cola");
    CHECK(cola.kind == task_kind::classification);
    CHECK(cola.metric == "mcc");
    CHECK(cola.labels == std::vector<std::string>{"unacceptable", "acceptable"});
    CHECK(glue_task("sst2").labels == std::vector<std::string>{"negative", "positive"});
    CHECK(glue_task("mrpc").metric == "f1");
    CHECK(glue_task("mrpc").labels == std::vector<std::string>{"not_equivalent", "equivalent"});
    CHECK(glue_task("qqp").labels == std::vector<std::string>{"not_duplicate", "duplicate"});
    CHECK(glue_task("qqp").metric == "f1");
    const auto stsb = glue_task("stsb");
    CHECK(stsb.kind == task_kind::regression);
    CHECK(stsb.metric == "pearson");
    CHECK(stsb.labels.empty());
    CHECK(glue_task("qnli").labels == std::vector<std::string>{"entailment", "not_entailment"});
    CHECK(glue_task("rte").kind == task_kind::pair_classification);
    CHECK_THROWS_WITH_AS(glue_task("wnli2"),
                         "GLUE task \"wnli2\" is unknown, expected one of cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte",
                         config_error);
}

TEST_CASE("task formats: GLUE single-sentence files (CoLA without header, CRLF; SST-2)") {
    const auto train = read_glue_tsv("cola", dir + "cola_train.tsv");  // Windows line endings
    REQUIRE(train.size() == 4);
    CHECK(train[0].id == "cola_train.tsv:1");
    CHECK(train[0].text_a == "Our friends won't buy this analysis, let alone the next one we propose.");
    CHECK(train[0].text_b.empty());
    CHECK(train[0].label == 1);
    CHECK(train[2].text_a == "The professor talked us.");
    CHECK(train[2].label == 0);
    CHECK(train[3].text_a.back() == '.');  // no '\r' left

    const auto dev = read_glue_tsv("cola", dir + "cola_dev.tsv");  // two blank lines at the end
    REQUIRE(dev.size() == 3);
    CHECK(dev[2].label == 0);
    CHECK(dev[2].id == "cola_dev.tsv:3");

    const auto test = read_glue_tsv("cola", dir + "cola_test.tsv");
    REQUIRE(test.size() == 2);
    CHECK(test[0].id == "cola_test.tsv:2");
    CHECK(test[0].text_a == "Bill whistled past the house.");
    CHECK(test[0].label == -1);
    CHECK(test[1].label == -1);

    const auto sst = read_glue_tsv("sst2", dir + "sst2_dev.tsv");
    REQUIRE(sst.size() == 4);
    CHECK(sst[0].text_a == "it 's a charming and often affecting journey . ");  // GLUE's trailing space kept
    CHECK(sst[0].label == 1);
    CHECK(sst[1].label == 0);
    CHECK(sst[3].label == 0);
    const auto sst_test = read_glue_tsv("sst2", dir + "sst2_test.tsv");
    REQUIRE(sst_test.size() == 2);
    CHECK(sst_test[1].text_a.starts_with("this film 's relationship"));
    CHECK(sst_test[1].label == -1);
    // the benchmark's own ids travel with the examples, for submission files
    CHECK(sst_test[0].index == "0");
    CHECK(sst_test[1].index == "1");
    CHECK(sst[0].index.empty());  // the dev file has no index column
    CHECK(glue_task("sst2").file_labels == std::vector<std::string>{"0", "1"});
}

TEST_CASE("task formats: GLUE pair files (MRPC with BOM, QQP, QNLI, RTE) and STS-B scores") {
    const auto mrpc = read_glue_tsv("mrpc", dir + "mrpc_train.tsv");  // header starts with a byte order mark
    REQUIRE(mrpc.size() == 3);
    CHECK(mrpc[0].text_a ==
          "Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting his evidence .");
    CHECK(mrpc[0].text_b.starts_with("Referring to him as only \" the witness \""));
    CHECK(mrpc[0].label == 1);
    CHECK(mrpc[1].label == 0);
    CHECK(mrpc[1].text_b.ends_with("in 1998 ."));
    const auto mrpc_test = read_glue_tsv("mrpc", dir + "mrpc_test.tsv");
    REQUIRE(mrpc_test.size() == 1);
    CHECK(mrpc_test[0].text_b.starts_with("Current Chief Operating Officer"));
    CHECK(mrpc_test[0].label == -1);

    const auto qqp = read_glue_tsv("qqp", dir + "qqp_dev.tsv");
    REQUIRE(qqp.size() == 3);
    CHECK(qqp[0].text_a == "Why are African-Americans so beautiful?");
    CHECK(qqp[0].text_b == "Why are hispanics so beautiful?");
    CHECK(qqp[0].label == 0);
    CHECK(qqp[1].label == 1);
    const auto qqp_test = read_glue_tsv("qqp", dir + "qqp_test.tsv");
    REQUIRE(qqp_test.size() == 1);
    CHECK(qqp_test[0].text_b == "Why are rockets and boosters painted white?");
    CHECK(qqp_test[0].label == -1);

    const auto qnli = read_glue_tsv("qnli", dir + "qnli_dev.tsv");
    REQUIRE(qnli.size() == 2);
    CHECK(qnli[0].text_a == "What came into force after the new constitution was herald?");
    CHECK(qnli[0].text_b.starts_with("As of that day"));
    CHECK(qnli[0].label == 0);
    CHECK(qnli[1].label == 1);

    const auto rte = read_glue_tsv("rte", dir + "rte_train.tsv");
    REQUIRE(rte.size() == 2);
    CHECK(rte[0].text_b == "Weapons of Mass Destruction Found in Iraq.");
    CHECK(rte[0].label == 1);
    CHECK(rte[1].label == 0);
    const auto rte_test = read_glue_tsv("rte", dir + "rte_test.tsv");
    REQUIRE(rte_test.size() == 1);
    CHECK(rte_test[0].text_b == "Shukla is related to Mangla.");
    CHECK(rte_test[0].label == -1);

    const auto stsb = read_glue_tsv("stsb", dir + "stsb_dev.tsv");
    REQUIRE(stsb.size() == 3);
    CHECK(stsb[0].text_a == "A man with a hard hat is dancing.");
    CHECK(stsb[0].text_b == "A man wearing a hard hat is dancing.");
    CHECK(stsb[0].target == 5.0);
    CHECK(stsb[1].target == 4.75);
    CHECK(stsb[2].target == doctest::Approx(2.4));
    CHECK(stsb[2].label == -1);
    const auto stsb_test = read_glue_tsv("stsb", dir + "stsb_test.tsv");
    REQUIRE(stsb_test.size() == 1);
    CHECK(stsb_test[0].text_b == "A girl is brushing her hair.");
    CHECK(stsb_test[0].target == 0.0);
}

TEST_CASE("task formats: MNLI train, dev (label1..5, no-consensus row skipped) and test") {
    const auto train = read_glue_tsv("mnli", dir + "mnli_train.tsv");
    REQUIRE(train.size() == 2);
    CHECK(train[0].text_a == "Conceptually cream skimming has two basic dimensions - product and geography.");
    CHECK(train[0].text_b == "Product and geography are what make cream skimming work. ");
    CHECK(train[0].label == 2);  // neutral
    CHECK(train[1].label == 1);  // entailment

    const auto dev = read_glue_tsv("mnli", dir + "mnli_dev_matched.tsv");
    REQUIRE(dev.size() == 3);  // line 4 has gold_label "-"
    CHECK(dev[0].label == 2);  // gold_label, not label1..label5
    CHECK(dev[1].label == 0);
    CHECK(dev[1].text_a.starts_with("This site includes a list"));
    CHECK(dev[2].id == "mnli_dev_matched.tsv:5");
    CHECK(dev[2].label == 1);

    const auto test = read_glue_tsv("mnli", dir + "mnli_test_matched.tsv");
    REQUIRE(test.size() == 1);
    CHECK(test[0].text_b == "Hierbas is a name worth looking out for.");
    CHECK(test[0].label == -1);
}

TEST_CASE("task formats: malformed GLUE files name the file, line and field") {
    CHECK(error_of([] { read_glue_tsv("sst2", dir + "bad_sst2_label.tsv"); }) ==
          dir + "bad_sst2_label.tsv: line 7, field 'label' = \"maybe\", expected one of 0, 1");
    CHECK(error_of([] { read_glue_tsv("cola", dir + "bad_cola_label.tsv"); }) ==
          dir + "bad_cola_label.tsv: line 2, field 'label' = \"2\", expected one of 0, 1");
    CHECK(error_of([] { read_glue_tsv("rte", dir + "bad_rte_columns.tsv"); }) ==
          dir + "bad_rte_columns.tsv: line 3: 3 columns, expected 4 (index, sentence1, sentence2, label)");
    CHECK(error_of([] { read_glue_tsv("qnli", dir + "bad_qnli_header.tsv"); }) ==
          dir + "bad_qnli_header.tsv: line 1, column 'sentence' is missing from the header (index, question, label)");
    CHECK(error_of([] { read_glue_tsv("stsb", dir + "bad_stsb_score.tsv"); }) ==
          dir + "bad_stsb_score.tsv: line 3, field 'score' = \"four\", expected a number");
    CHECK(error_of([] { read_glue_tsv("mnli", dir + "bad_mnli_label.tsv"); }) ==
          dir +
              "bad_mnli_label.tsv: line 2, field 'gold_label' = \"Neutral\", expected one of contradiction, "
              "entailment, neutral");
    // A file with the wrong task's layout fails on its header, not on some later row.
    CHECK(error_of([] { read_glue_tsv("rte", dir + "qnli_dev.tsv"); }) ==
          dir +
              "qnli_dev.tsv: line 1, column 'sentence1' is missing from the header (index, question, sentence, label)");
    CHECK(error_of([] { read_glue_tsv("sts-b", dir + "stsb_dev.tsv"); }).starts_with("GLUE task \"sts-b\" is unknown"));
    CHECK_THROWS_WITH_AS(read_glue_tsv("rte", dir + "missing.tsv"),
                         (dir + "missing.tsv: cannot open GLUE TSV file").c_str(), io_error);
}

TEST_CASE("task formats: BoolQ in SuperGLUE and original layouts") {
    const auto sg = read_boolq_jsonl(dir + "boolq_superglue_val.jsonl");
    REQUIRE(sg.size() == 2);
    CHECK(sg[0].id == "boolq_superglue_val.jsonl:1");
    CHECK(sg[0].text_a == "does ethanol take more energy make that produces");
    CHECK(sg[0].text_b.starts_with("Ethanol fuel -- All biomass"));
    CHECK(sg[0].label == 0);
    CHECK(sg[1].label == 1);

    const auto orig = read_boolq_jsonl(dir + "boolq_original_dev.jsonl");  // a blank line 2 is skipped
    REQUIRE(orig.size() == 2);
    CHECK(orig[0].label == 0);
    CHECK(orig[0].text_b.starts_with("All biomass"));
    CHECK(orig[1].id == "boolq_original_dev.jsonl:3");
    CHECK(orig[1].label == 1);

    const auto test = read_boolq_jsonl(dir + "boolq_superglue_test.jsonl");
    REQUIRE(test.size() == 1);
    CHECK(test[0].label == -1);
    CHECK(test[0].index == "0");  // SuperGLUE's idx

    CHECK(error_of([] { read_boolq_jsonl(dir + "bad_boolq_label.jsonl"); }) ==
          dir + "bad_boolq_label.jsonl: line 2, field 'label' = \"yes\", expected true or false");
}

TEST_CASE("task formats: ARC and OpenBookQA load the same from AI2 and Hugging Face layouts") {
    const auto ai2 = read_multiple_choice_jsonl("arc", dir + "arc_ai2.jsonl");
    const auto hf = read_multiple_choice_jsonl("arc", dir + "arc_hf.jsonl");
    REQUIRE(ai2.size() == 3);
    REQUIRE(hf.size() == 3);
    REQUIRE(ai2[0].contexts.size() == 1);
    CHECK(ai2[0].contexts[0] ==
          "Question: George wants to warm his hands quickly by rubbing them. Which skin surface will produce the most "
          "heat?\nAnswer:");
    CHECK(ai2[0].choices == std::vector<std::string>{" dry palms", " wet palms", " palms covered with oil",
                                                     " palms covered with lotion"});
    CHECK(ai2[0].label == 0);
    CHECK(ai2[1].label == 0);  // answerKey "1" among labels "1".."4"
    CHECK(ai2[0].index == "Mercury_SC_415702");
    CHECK(ai2[0].choice_labels == std::vector<std::string>{"A", "B", "C", "D"});
    CHECK(ai2[1].choice_labels.front() == "1");
    CHECK(ai2[1].choices[0] == " cellular telephone");
    CHECK(ai2[2].label == 2);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(hf[i].contexts == ai2[i].contexts);
        CHECK(hf[i].choices == ai2[i].choices);
        CHECK(hf[i].label == ai2[i].label);
    }

    const auto ob = read_multiple_choice_jsonl("openbookqa", dir + "openbookqa_ai2.jsonl");
    const auto ob_hf = read_multiple_choice_jsonl("openbookqa", dir + "openbookqa_hf.jsonl");
    REQUIRE(ob.size() == 2);
    REQUIRE(ob_hf.size() == 2);
    CHECK(ob[0].contexts == std::vector<std::string>{"The sun is responsible for"});  // lm-eval: the bare stem
    CHECK(ob[0].choices[3] == " plants sprouting, blooming and wilting");
    CHECK(ob[0].label == 3);
    CHECK(ob_hf[1].contexts == ob[1].contexts);
    CHECK(ob_hf[1].choices == ob[1].choices);
    CHECK(ob_hf[1].label == 3);

    CHECK(error_of([] { read_multiple_choice_jsonl("arc", dir + "bad_arc_answer.jsonl"); }) ==
          dir + "bad_arc_answer.jsonl: line 3, field 'answerKey' = \"F\", expected one of A, B, C, D");
    CHECK(error_of([] { read_multiple_choice_jsonl("race", dir + "arc_hf.jsonl"); }) ==
          dir +
              "arc_hf.jsonl: multiple-choice format \"race\" is unknown, expected one of arc, openbookqa, piqa, "
              "hellaswag, winogrande");
}

TEST_CASE("task formats: PIQA, HellaSwag and WinoGrande as lm-eval-harness scores them") {
    const auto piqa = read_multiple_choice_jsonl("piqa", dir + "piqa_valid.jsonl");
    REQUIRE(piqa.size() == 2);
    CHECK(piqa[0].contexts == std::vector<std::string>{"Question: How do I ready a guinea pig cage for it's new "
                                                       "occupants?\nAnswer:"});
    REQUIRE(piqa[0].choices.size() == 2);
    CHECK(
        piqa[0].choices[0].starts_with(" Provide the guinea pig with a cage full of a few inches of bedding made "
                                       "of ripped paper strips"));
    CHECK(piqa[0].label == 0);
    CHECK(piqa[1].choices[1] == " finish, woodgrain with  bobby pin ");
    CHECK(piqa[1].label == 1);

    const auto hs = read_multiple_choice_jsonl("hellaswag", dir + "hellaswag_val.jsonl");
    REQUIRE(hs.size() == 2);
    CHECK(hs[0].contexts == std::vector<std::string>{"A man is sitting on a roof. he"});
    REQUIRE(hs[0].choices.size() == 4);
    CHECK(hs[0].choices[3] == " starts pulling up roofing on a roof.");
    CHECK(hs[0].label == 3);
    // no "ctx": ctx_a + " " + ctx_b; label as the Hugging Face export's string "3"
    CHECK(hs[1].contexts ==
          std::vector<std::string>{"A lady walks to a barbell. She bends down and grabs the pole. the lady"});
    CHECK(hs[1].label == 3);

    const auto wg = read_multiple_choice_jsonl("winogrande", dir + "winogrande_dev.jsonl");
    REQUIRE(wg.size() == 2);
    CHECK(wg[0].contexts == std::vector<std::string>{"Sarah was a much better surgeon than Maria so Sarah",
                                                     "Sarah was a much better surgeon than Maria so Maria"});
    CHECK(wg[0].choices == std::vector<std::string>{" always got the harder cases.", " always got the harder cases."});
    CHECK(wg[0].label == 0);
    CHECK(wg[1].choices[1] == " always got the easier cases.");
    CHECK(wg[1].label == 1);

    const std::string bad_json = error_of([] { read_multiple_choice_jsonl("piqa", dir + "bad_piqa_json.jsonl"); });
    CHECK(bad_json.starts_with(dir + "bad_piqa_json.jsonl: line 4: not valid JSON (column "));
    CHECK(bad_json.ends_with(")"));
    CHECK(error_of([] { read_multiple_choice_jsonl("piqa", dir + "bad_piqa_label.jsonl"); }) ==
          dir + "bad_piqa_label.jsonl: line 1, field 'label' = 2, expected one of 0, 1");
    CHECK(error_of([] { read_multiple_choice_jsonl("hellaswag", dir + "bad_hellaswag_missing.jsonl"); }) ==
          dir + "bad_hellaswag_missing.jsonl: line 1, field 'endings' is missing");
    CHECK(error_of([] { read_multiple_choice_jsonl("winogrande", dir + "bad_winogrande_blank.jsonl"); }) ==
          dir +
              "bad_winogrande_blank.jsonl: line 1, field 'sentence' = \"Sarah was a much better surgeon than Maria "
              "so she always got the harder cases.\", expected a \"_\" to fill in");
}

TEST_CASE("task formats: SQuAD v1.1 keeps every gold answer at its byte offset") {
    const auto squad = read_squad_json(dir + "squad_dev.json");
    REQUIRE(squad.size() == 3);
    CHECK(squad[0].id == "56be4db0acb8001400a502ec");
    CHECK(squad[0].text_a == "Which NFL team represented the AFC at Super Bowl 50?");
    CHECK(squad[0].text_b.starts_with("Super Bowl 50 was an American football game"));
    CHECK(squad[0].answers == std::vector<std::string>{"Denver Broncos", "Denver Broncos", "Denver Broncos"});
    CHECK(squad[0].answer_starts == std::vector<std::size_t>{177, 177, 177});  // before the en dash: bytes = chars
    // After "24–10" (a 3-byte en dash) byte offsets run 2 ahead of SQuAD's code-point offsets 403 and 355.
    CHECK(squad[1].answers ==
          std::vector<std::string>{"Santa Clara, California", "Levi's Stadium",
                                   "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."});
    CHECK(squad[1].answer_starts == std::vector<std::size_t>{405, 357, 357});
    CHECK(squad[2].id == "56bf6b0f3aeaa14200e4b2a8");
    CHECK(squad[2].answer_starts == std::vector<std::size_t>{140});  // "é" in Beyoncé: 139 code points
    for (const auto& e : squad)
        for (std::size_t i = 0; i < e.answers.size(); ++i)
            CHECK(e.text_b.substr(e.answer_starts[i], e.answers[i].size()) == e.answers[i]);

    CHECK(error_of([] { read_squad_json(dir + "bad_squad_offset.json"); }) ==
          dir +
              "bad_squad_offset.json: /data/0/paragraphs/1/qas/0/answers/0/answer_start = 999, the answer text is "
              "not at that offset");
    CHECK(error_of([] { read_squad_json(dir + "bad_squad_missing.json"); }) ==
          dir + "bad_squad_missing.json: /data/0/paragraphs/0/qas/0/question is missing");
    CHECK(error_of([] {
              read_squad_json(dir + "bad_squad_json.json");
          }).starts_with(dir + "bad_squad_json.json: not valid JSON (line 2, column "));
    CHECK_THROWS_WITH_AS(read_squad_json(dir + "missing.json"),
                         (dir + "missing.json: cannot open SQuAD JSON file").c_str(), io_error);
}
