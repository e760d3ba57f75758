// The CLI's pieces that do no heavy work: the argument parser (every rejection names the
// option) and the job planner (folder expansion, output names, skip and duplicate rules).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/jobs.h"

namespace lucent::cli {
namespace {

std::string parse(std::vector<std::string> words, Args* a) {
    std::vector<const char*> argv{"lucent"};
    for (const std::string& w : words) argv.push_back(w.c_str());
    return parse_args(static_cast<int>(argv.size()), argv.data(), a);
}

TEST(CliArgs, Accepts) {
    Args a;
    EXPECT_EQ(parse({"upscale", "in.png", "out.png"}, &a), "");
    EXPECT_EQ(a.inputs, std::vector<std::string>{"in.png"});
    EXPECT_EQ(a.output, "out.png");
    EXPECT_FALSE(a.output_is_folder);
    EXPECT_EQ(parse({"enhance", "-o", "dir", "a.png", "b.jpg", "--threads", "1", "--ext", "jpeg",
                     "--suffix", "", "--overwrite"},
                    &a),
              "");
    EXPECT_TRUE(a.output_is_folder);
    EXPECT_EQ(a.inputs.size(), 2u);
    EXPECT_EQ(a.ext, "jpg");
    EXPECT_TRUE(a.suffix_set);
    EXPECT_EQ(a.suffix, "");
    EXPECT_EQ(parse({"upscale", "--", "-odd.png", "out.png"}, &a), "");
    EXPECT_EQ(a.inputs[0], "-odd.png");
    EXPECT_EQ(parse({"upscale", "--help"}, &a), "");
    EXPECT_TRUE(a.help);
}

TEST(CliArgs, RejectsWithAReason) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{}, "missing command"},
        {{"frob", "a", "b"}, "unknown command"},
        {{"upscale", "a"}, "need an input and an output"},
        {{"upscale", "a", "b", "c"}, "too many"},
        {{"upscale", "--threads", "x", "a", "b"}, "--threads"},
        {{"upscale", "--threads", "100000", "a", "b"}, "4x this machine's cores"},
        {{"upscale", "--isa", "mmx", "a", "b"}, "--isa"},
        {{"upscale", "--max-memory", "0", "a", "b"}, "--max-memory"},
        {{"upscale", "--ext", "gif", "-o", "d", "a"}, "--ext"},
        {{"upscale", "--suffix", "x/y", "-o", "d", "a"}, "may not contain '/'"},
        {{"upscale", "--suffix", "x", "a", "b"}, "go with -o"},
        {{"upscale", "-o"}, "needs a folder"},
        {{"upscale", "-o", "d"}, "at least one input"},
        {{"upscale", "--model"}, "--model needs"},
        {{"upscale", "--bogus", "a", "b"}, "unknown option"},
        {{"upscale", "", "b"}, "empty"},
    };
    for (const auto& c : cases) {
        Args a;
        const std::string err = parse(c.first, &a);
        EXPECT_NE(err.find(c.second), std::string::npos)
            << "got '" << err << "', want '" << c.second << "'";
    }
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/lucent-jobs-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
    void touch(const std::string& name) const {
        FILE* f = std::fopen((path + "/" + name).c_str(), "w");
        if (f) std::fclose(f);
    }
};

TEST(CliJobs, FolderExpansionNamesAndSkips) {
    TempDir d;
    mkdir((d.path + "/in").c_str(), 0777);
    d.touch("in/b.png");
    d.touch("in/a.JPG");
    d.touch("in/notes.txt");
    d.touch("in/.hidden.png");
    d.touch("in/a.png");  // same stem as a.JPG: both would write a_x4.png
    mkdir((d.path + "/in/sub.png").c_str(), 0777);
    Args a;
    ASSERT_EQ(parse({"upscale", "-o", d.path + "/out/deep", d.path + "/in"}, &a), "");
    Result<std::vector<Job>> jobs = plan_jobs(a, "_x4");
    ASSERT_TRUE(jobs.ok()) << jobs.status().message();
    ASSERT_EQ(jobs.value().size(), 3u);
    EXPECT_EQ(jobs.value()[0].out, d.path + "/out/deep/a_x4.png");  // a.JPG sorts first
    EXPECT_EQ(jobs.value()[0].error, "");
    EXPECT_NE(jobs.value()[1].error.find("also"), std::string::npos);  // a.png: duplicate
    EXPECT_EQ(jobs.value()[2].out, d.path + "/out/deep/b_x4.png");
    struct stat st;
    EXPECT_EQ(stat((d.path + "/out/deep").c_str(), &st), 0);  // created

    d.touch("out/deep/b_x4.png");
    jobs = plan_jobs(a, "_x4");
    ASSERT_TRUE(jobs.ok());
    EXPECT_NE(jobs.value()[2].skip.find("exists"), std::string::npos);
    a.overwrite = true;
    jobs = plan_jobs(a, "_x4");
    EXPECT_EQ(jobs.value()[2].skip, "");

    // The output may never be the input itself.
    ASSERT_EQ(parse({"upscale", "-o", d.path + "/in", "--suffix", "", "--overwrite",
                     d.path + "/in/b.png"},
                    &a),
              "");
    jobs = plan_jobs(a, "_x4");
    ASSERT_TRUE(jobs.ok());
    EXPECT_NE(jobs.value()[0].error.find("is the input"), std::string::npos);
    ASSERT_EQ(parse({"upscale", d.path + "/in/b.png", d.path + "/in/b.png"}, &a), "");
    jobs = plan_jobs(a, "_x4");
    EXPECT_NE(jobs.value()[0].error.find("is the input"), std::string::npos);
}

TEST(CliJobs, OutputThatIsAFileFails) {
    TempDir d;
    d.touch("file");
    Args a;
    ASSERT_EQ(parse({"upscale", "-o", d.path + "/file", "x.png"}, &a), "");
    Result<std::vector<Job>> jobs = plan_jobs(a, "_x4");
    EXPECT_FALSE(jobs.ok());
}

}  // namespace
}  // namespace lucent::cli
