// The dashboard's request parsing and access rules without sockets: query strings, filters, the
// routes' answers to requests without, with a wrong and with the right token, and the login
// cookie; the registry's charts. The pages against a real catalog and in a browser:
// tests/integration/serve_cli_test.cc.
#include "lote/serve/dashboard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lote/storage/storage.h"

namespace lote::serve {
namespace {

TEST(QueryParameter, DecodesAndFindsExactKeys) {
  EXPECT_EQ(QueryParameter("a=1&b=x%20y+z", "b"), "x y z");
  EXPECT_EQ(QueryParameter("ab=1&b=2", "b"), "2");
  EXPECT_EQ(QueryParameter("a=1", "b"), "");
  EXPECT_EQ(QueryParameter("", "a"), "");
  EXPECT_EQ(QueryParameter("a", "a"), "");
  EXPECT_EQ(QueryParameter("a=%2", "a"), "%2");      // a cut escape stays as sent
  EXPECT_EQ(QueryParameter("a=%zz", "a"), "%zz");    // so does one that is not hex
  EXPECT_EQ(QueryParameter("%61=1", "a"), "1");      // keys are decoded too
  EXPECT_EQ(QueryParameter("a=1&a=2", "a"), "1");    // the first wins
  EXPECT_EQ(QueryParameter("a=x%27y", "a"), "x'y");  // decoded, then checked by the caller
}

// The latest promotion test per model, label by label, from the alias history: an older test and
// a move without one (alias set by hand) are passed over; a tagger's test gives entity types.
TEST(RegistryCharts, ShowTheLatestPromotionTestChampionAgainstCandidate) {
  auto reg = registry::Registry::Open("mem://reg/registry", storage::NewMemStorage());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const registry::Actor ana{"ana"};
  for (const char* bytes : {"one", "two", "three"}) {
    ASSERT_TRUE(
        reg->Register("intents", bytes, std::string("m-") + bytes, "m", "", "{}", {}, ana).ok());
  }
  ASSERT_TRUE(reg->Register("ner", "tagger", "t-1", "t", "", "{}", {}, ana).ok());
  ASSERT_TRUE(reg->Register("ner", "tagger 2", "t-2", "t", "", "{}", {}, ana).ok());
  ASSERT_TRUE(reg->SetAlias("intents", "champion", 1, "first", "null", ana).ok());
  ASSERT_TRUE(reg->SetAlias("intents", "champion", 2, "older test",
                            R"({"promote":true,"labels":[{"label":"pago","rows":40,)"
                            R"("champion_recall":0.5,"candidate_recall":0.6,"worse":false}]})",
                            ana)
                  .ok());
  ASSERT_TRUE(reg->SetAlias("intents", "champion", 3, "latest test",
                            R"({"promote":true,"labels":[{"label":"pago","rows":40,)"
                            R"("champion_recall":0.6,"candidate_recall":0.7,"worse":false},)"
                            R"({"label":"bloqueo","rows":25,"champion_recall":0.9,)"
                            R"("candidate_recall":0.8,"worse":true}]})",
                            ana)
                  .ok());
  ASSERT_TRUE(reg->SetAlias("intents", "staging", 1, "by hand", "null", ana).ok());
  ASSERT_TRUE(reg->SetAlias("ner", "champion", 2, "tested",
                            R"({"promote":true,"types":[{"type":"PER","gold":120,)"
                            R"("champion_f1":0.71,"candidate_f1":0.75,"worse":false}]})",
                            ana)
                  .ok());
  auto charts = RegistryCharts(*reg);
  ASSERT_TRUE(charts.ok()) << charts.status().ToString();
  ASSERT_EQ(charts->size(), 3u);
  const DashboardChart& c = (*charts)[2];
  EXPECT_EQ(c.id, "promotion_evaluation");
  EXPECT_EQ(c.command, "lote registry alias-history NAME --json");
  std::vector<std::string> rows;
  for (const auto& r : c.data.rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      if (i == 1) continue;  // the time of the move
      line += (i ? "|" : "") + r[i].text;
    }
    rows.push_back(line);
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"intents|2|3|promoted|pago|40|recall|0.6|0.7|no",
                                            "intents|2|3|promoted|bloqueo|25|recall|0.9|0.8|yes",
                                            "ner||2|promoted|PER|120|f1|0.71|0.75|no"}));
}

TEST(ParseDashboardFilters, AcceptsTheirSyntaxAndNamesTheFilterOtherwise) {
  auto f = ParseDashboardFilters(
      "from=2026-12-01&to=2026-12-31&model=intents-52bea00b07a8&"
      "text_lang=es&label=pse_pago&page=intents&lang=es");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->from, "2026-12-01");
  EXPECT_EQ(f->to, "2026-12-31");
  EXPECT_EQ(f->model, "intents-52bea00b07a8");
  EXPECT_EQ(f->text_lang, "es");
  EXPECT_EQ(f->label, "pse_pago");
  EXPECT_TRUE(ParseDashboardFilters("").ok());
  for (const auto& [query, name] :
       std::vector<std::pair<std::string, std::string>>{{"from=2026-1-01", "from"},
                                                        {"to=2026-12-31T00", "to"},
                                                        {"model=a%27b", "model"},
                                                        {"label=a%20OR%201", "label"},
                                                        {"label=" + std::string(200, 'a'), "label"},
                                                        {"text_lang=e5", "text_lang"},
                                                        {"text_lang=es%00", "text_lang"}}) {
    auto bad = ParseDashboardFilters(query);
    ASSERT_FALSE(bad.ok()) << query;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("filter " + name), std::string::npos)
        << bad.status().message();
  }
}

class DashboardRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = std::filesystem::temp_directory_path() /
              ("lote-dashboard-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(assets_);
    for (const char* name : {"index.html", "login.html", "app.js", "app.css", "chart.umd.js"}) {
      std::ofstream(assets_ / name) << "<!-- " << name << " -->";
    }
  }
  void TearDown() override { std::filesystem::remove_all(assets_); }
  // The route answering `method path`, or null.
  static const HttpRoute* Find(const std::vector<HttpRoute>& routes, const std::string& method,
                               const std::string& path) {
    for (const auto& r : routes) {
      if (r.method == method && r.path == path) return &r;
    }
    return nullptr;
  }
  DashboardOptions Options(std::string token) {
    DashboardOptions o;
    o.catalog_path = (assets_ / "no-catalog.db").string();
    o.assets_dir = assets_.string();
    o.token = Secret(std::move(token));
    return o;
  }
  std::filesystem::path assets_;
};

TEST_F(DashboardRoutesTest, AMissingAssetOrAShortTokenIsRefusedAtStart) {
  EXPECT_FALSE(DashboardRoutes(Options("short")).ok());
  std::filesystem::remove(assets_ / "chart.umd.js");
  auto routes = DashboardRoutes(Options(""));
  ASSERT_FALSE(routes.ok());
  EXPECT_EQ(routes.status().code(), StatusCode::kNotFound);
  EXPECT_NE(routes.status().message().find("chart.umd.js"), std::string::npos);
}

TEST_F(DashboardRoutesTest, WithATokenEveryDataRouteAsksForIt) {
  const std::string token = "0123456789abcdef-token";
  auto routes = DashboardRoutes(Options(token));
  ASSERT_TRUE(routes.ok()) << routes.status().ToString();
  const HttpRoute* api = Find(*routes, "GET", "/api/overview");
  const HttpRoute* csv = Find(*routes, "GET", "/api/intents.csv");
  const HttpRoute* index = Find(*routes, "GET", "/");
  const HttpRoute* login = Find(*routes, "POST", "/login");
  ASSERT_TRUE(api && csv && index && login);
  EXPECT_TRUE(api->offload);  // SQL runs on the workers, never on the network threads
  HttpRequest r;
  r.method = "GET";
  EXPECT_EQ(api->handler(r).status, 401);
  EXPECT_EQ(csv->handler(r).status, 401);
  EXPECT_EQ(index->handler(r).status, 303);
  const std::string wrong = "Bearer 0123456789abcdef-tokeN";
  r.authorization = wrong;
  EXPECT_EQ(api->handler(r).status, 401);
  const std::string prefix = "Bearer " + token.substr(0, 10);
  r.authorization = prefix;
  EXPECT_EQ(api->handler(r).status, 401);
  const std::string right = "Bearer " + token;
  r.authorization = right;
  // Past the token: no catalog here, which is the catalog's 404, not an access error.
  EXPECT_EQ(api->handler(r).status, 404);
  EXPECT_EQ(index->handler(r).status, 200);

  HttpRequest form;
  form.method = "POST";
  form.body = "token=nope";
  EXPECT_EQ(login->handler(form).status, 401);
  const std::string good = "token=" + token;
  form.body = good;
  HttpResponse in = login->handler(form);
  EXPECT_EQ(in.status, 303);
  std::string cookie;
  for (const auto& [k, v] : in.headers) {
    if (k == "Set-Cookie") cookie = v;
  }
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(cookie.find(token), std::string::npos);
  HttpRequest with_cookie;
  const std::string session = "other=1; " + cookie.substr(0, cookie.find(';'));
  with_cookie.cookie = session;
  EXPECT_EQ(index->handler(with_cookie).status, 200);
  with_cookie.cookie = "lote_session=";
  EXPECT_EQ(index->handler(with_cookie).status, 303);
  // The assets hold no data and load without the token (the login page needs the stylesheet).
  HttpRequest none;
  EXPECT_EQ(Find(*routes, "GET", "/static/app.css")->handler(none).status, 200);
}

TEST_F(DashboardRoutesTest, WithoutATokenTheLoopbackDashboardIsOpen) {
  auto routes = DashboardRoutes(Options(""));
  ASSERT_TRUE(routes.ok());
  HttpRequest r;
  r.query = "from=never";
  EXPECT_EQ(Find(*routes, "GET", "/api/runs")->handler(r).status, 400);
  r.query = "";  // a CSV download names its chart
  EXPECT_EQ(Find(*routes, "GET", "/api/runs.csv")->handler(r).status, 400);
  EXPECT_EQ(Find(*routes, "GET", "/")->handler(HttpRequest()).status, 200);
}

}  // namespace
}  // namespace lote::serve
