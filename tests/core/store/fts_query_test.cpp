// fts5_match_expression: user text becomes quoted, OR'ed terms; FTS5 never sees an operator.
#include "core/store/fts_query.h"

#include <gtest/gtest.h>

namespace memlong {
namespace {

TEST(StoreFtsQuery, QuotesEveryWordAndOrsThem) {
  EXPECT_EQ(fts5_match_expression("hello world"), "\"hello\" OR \"world\"");
  EXPECT_EQ(fts5_match_expression("  a\tb\n"), "\"a\" OR \"b\"");
}

TEST(StoreFtsQuery, OperatorsAndQuotesAreLiteral) {
  EXPECT_EQ(fts5_match_expression("NOT AND OR NEAR"), "\"NOT\" OR \"AND\" OR \"OR\" OR \"NEAR\"");
  EXPECT_EQ(fts5_match_expression("say \"hi\""), "\"say\" OR \"\"\"hi\"\"\"");
  EXPECT_EQ(fts5_match_expression("col:val* ^x (y)"), "\"col:val*\" OR \"^x\" OR \"(y)\"");
}

TEST(StoreFtsQuery, PunctuationOnlyAndEmptyGiveNothing) {
  EXPECT_EQ(fts5_match_expression(""), "");
  EXPECT_EQ(fts5_match_expression("  \" ( ) * : ^ -- "), "");
}

TEST(StoreFtsQuery, KeepsAtMostMaxTerms) {
  std::string text;
  for (size_t i = 0; i < kMaxFtsTerms + 10; ++i) text += std::to_string(i) + "w ";
  const std::string e = fts5_match_expression(text);
  size_t n_or = 0;
  for (size_t p = e.find(" OR "); p != std::string::npos; p = e.find(" OR ", p + 1)) ++n_or;
  EXPECT_EQ(n_or + 1, kMaxFtsTerms);
}

}  // namespace
}  // namespace memlong
