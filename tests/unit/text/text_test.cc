// The shared UTF-8 and JSON string primitives, byte for byte.
#include "text/text.h"

#include <gtest/gtest.h>

#include <string>

namespace vllora::text {
namespace {

const std::string kR(kReplacement);

TEST(Utf8, WellFormedSequencesAreValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C\x93", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
}

TEST(Utf8, IllFormedSequencesAreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xE2\x9C"));  // truncated after the ASCII fast path
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_EQ(Utf8SequenceLength("\xE2\x9C", 0), 0u);
}

TEST(Utf8, RepairReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(RepairUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(RepairUtf8("a\xFF"
                       "b"),
            "a" + kR + "b");
  EXPECT_EQ(RepairUtf8("\xC0\x80"), kR + kR);
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80z"), kR + kR + kR + "z");
  EXPECT_EQ(RepairUtf8("abcdefghij\xE2\x9C"), "abcdefghij" + kR + kR);
  std::string out = "keep:";
  AppendRepairedUtf8(out, "x\x80y");
  EXPECT_EQ(out, "keep:x" + kR + "y");
  AssignRepairedUtf8(out, "fresh");
  EXPECT_EQ(out, "fresh");
}

TEST(JsonString, EscapesAndRepairs) {
  std::string out;
  AppendJsonString(out, "quote\" backslash\\ nl\n cr\r tab\t bs\b ff\f ctl\x01 del\x7F");
  EXPECT_EQ(out, R"("quote\" backslash\\ nl\n cr\r tab\t bs\b ff\f ctl\u0001 del)"
                 "\x7F\"");
  out.clear();
  AppendJsonString(out, "h\xC3\xA9 \xFF!");
  EXPECT_EQ(out, "\"h\xC3\xA9 " + kR + "!\"");
  out.clear();
  AppendJsonString(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace vllora::text
