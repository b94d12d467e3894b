// `synack serve http`'s request planning: status codes, Range, keep-alive, percent-decoding,
// and the refusal of paths that leave the root.
#include "http_request.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace synack::tools {
namespace {

class HttpPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/synack-http-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    std::filesystem::create_directory(root_ + "/dir");
    std::ofstream(root_ + "/ten.txt") << "0123456789";
    std::ofstream(root_ + "/a b.html") << "<p>x</p>";
    std::ofstream(root_ + "/dir/index.html") << "index";
    std::ofstream(root_ + "/../synack-http-secret-" + std::to_string(::getpid())) << "secret";
  }
  void TearDown() override {
    // The secret beside root_ first: "root_/.." no longer resolves once root_ is gone.
    std::filesystem::remove(root_ + "/../synack-http-secret-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    if (last_.file >= 0) ::close(last_.file);
  }
  http_plan plan(const std::string& req) {
    if (last_.file >= 0) ::close(last_.file);
    last_ = plan_response(root_, req);
    return last_;
  }
  static bool has(const http_plan& p, const std::string& field) { return p.head.find(field) != std::string::npos; }
  std::string root_;
  http_plan last_;
};

TEST_F(HttpPlan, GetServesTheWholeFile) {
  auto p = plan("GET /ten.txt HTTP/1.1\r\nHost: x");
  EXPECT_EQ(p.status, 200);
  EXPECT_GE(p.file, 0);
  EXPECT_EQ(p.offset, 0U);
  EXPECT_EQ(p.length, 10U);
  EXPECT_TRUE(has(p, "Content-Length: 10\r\n"));
  EXPECT_TRUE(has(p, "Content-Type: text/plain\r\n"));
  EXPECT_TRUE(has(p, "Accept-Ranges: bytes\r\n"));
  EXPECT_TRUE(p.keep_alive);
  EXPECT_FALSE(has(p, "Connection:"));
}

TEST_F(HttpPlan, HeadSendsNoBody) {
  auto p = plan("HEAD /ten.txt HTTP/1.1");
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.file, -1);
  EXPECT_EQ(p.length, 0U);
  EXPECT_TRUE(has(p, "Content-Length: 10\r\n"));
  EXPECT_TRUE(p.head.ends_with("\r\n\r\n"));
}

TEST_F(HttpPlan, RangesGive206WithContentRange) {
  auto p = plan("GET /ten.txt HTTP/1.1\r\nRange: bytes=2-4");
  EXPECT_EQ(p.status, 206);
  EXPECT_EQ(p.offset, 2U);
  EXPECT_EQ(p.length, 3U);
  EXPECT_TRUE(has(p, "Content-Range: bytes 2-4/10\r\n"));
  EXPECT_TRUE(has(p, "Content-Length: 3\r\n"));
  p = plan("GET /ten.txt HTTP/1.1\r\nrange: bytes=7-");
  EXPECT_EQ(p.status, 206);
  EXPECT_TRUE(has(p, "Content-Range: bytes 7-9/10\r\n"));
  p = plan("GET /ten.txt HTTP/1.1\r\nRange: bytes=-4");
  EXPECT_EQ(p.offset, 6U);
  EXPECT_EQ(p.length, 4U);
  p = plan("GET /ten.txt HTTP/1.1\r\nRange: bytes=5-100");
  EXPECT_TRUE(has(p, "Content-Range: bytes 5-9/10\r\n"));
}

TEST_F(HttpPlan, UnsatisfiableRangeIs416AndOddRangesAreIgnored) {
  auto p = plan("GET /ten.txt HTTP/1.1\r\nRange: bytes=10-");
  EXPECT_EQ(p.status, 416);
  EXPECT_EQ(p.file, -1);
  EXPECT_TRUE(has(p, "Content-Range: bytes */10\r\n"));
  for (const char* r : {"bytes=0-1,4-5", "items=0-1", "bytes=5-2", "bytes=x-"}) {
    p = plan(std::string("GET /ten.txt HTTP/1.1\r\nRange: ") + r);
    EXPECT_EQ(p.status, 200) << r;
    EXPECT_EQ(p.length, 10U) << r;
  }
}

TEST_F(HttpPlan, Http10KeepAliveIsGrantedAloud) {
  auto p = plan("GET /ten.txt HTTP/1.0\r\nConnection: Keep-Alive");
  EXPECT_TRUE(p.keep_alive);
  EXPECT_TRUE(has(p, "Connection: keep-alive\r\n"));
  p = plan("GET /ten.txt HTTP/1.0");
  EXPECT_FALSE(p.keep_alive);
  EXPECT_TRUE(has(p, "Connection: close\r\n"));
  p = plan("GET /ten.txt HTTP/1.1\r\nConnection: close");
  EXPECT_FALSE(p.keep_alive);
}

TEST_F(HttpPlan, PathsArePercentDecodedAndDirectoriesGetTheirIndex) {
  auto p = plan("GET /a%20b.html?x=1 HTTP/1.1");
  EXPECT_EQ(p.status, 200);
  EXPECT_TRUE(has(p, "Content-Type: text/html\r\n"));
  p = plan("GET /dir/ HTTP/1.1");
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.length, 5U);
}

TEST_F(HttpPlan, EscapesFromTheRootAreRefused) {
  const std::string secret = "synack-http-secret-" + std::to_string(::getpid());
  for (const std::string& t : std::vector<std::string>{"/../" + secret, "/%2e%2e/" + secret, "/dir/..%2f..%2f" + secret,
                                                       "/x%00.txt", "/%zz", "/%2"}) {
    auto p = plan("GET " + t + " HTTP/1.1");
    EXPECT_TRUE(p.status == 404 || p.status == 400) << t << " -> " << p.status;
    EXPECT_EQ(p.file, -1) << t;
  }
}

TEST_F(HttpPlan, MalformedRequestsAndOtherMethods) {
  auto p = plan("GARBAGE");
  EXPECT_EQ(p.status, 400);
  EXPECT_FALSE(p.keep_alive);
  p = plan("GET ten.txt HTTP/1.1");
  EXPECT_EQ(p.status, 400);
  p = plan("POST /ten.txt HTTP/1.1");
  EXPECT_EQ(p.status, 405);
  EXPECT_TRUE(has(p, "Allow: GET, HEAD\r\n"));
  EXPECT_TRUE(p.head.ends_with("method not allowed\n"));
  p = plan("GET /missing HTTP/1.1");
  EXPECT_EQ(p.status, 404);
  EXPECT_TRUE(has(p, "Content-Length: 10\r\n"));  // "not found\n"
}

TEST(HttpAccessLog, OneLinePerRequest) {
  http_plan p;
  p.method = "GET", p.target = "/x", p.status = 206, p.length = 3;
  EXPECT_EQ(access_log_line("10.0.0.1:4000", p), "10.0.0.1:4000 \"GET /x\" 206 3");
  p.status = 404, p.head = "HTTP/1.1 404 Not Found\r\n\r\nnot found\n";
  EXPECT_EQ(access_log_line("-", p), "- \"GET /x\" 404 10");
}

TEST(PercentDecode, Rules) {
  EXPECT_EQ(percent_decode("/a%41b"), "/aAb");
  EXPECT_EQ(percent_decode("/plain"), "/plain");
  EXPECT_FALSE(percent_decode("/a%4"));
  EXPECT_FALSE(percent_decode("/a%2F"));
  EXPECT_FALSE(percent_decode("/a%00"));
}

}  // namespace
}  // namespace synack::tools
