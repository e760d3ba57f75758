// lucent._lucent: the compiled half of the Python package (pybind11). It holds a lucent::Model
// and runs it on numpy buffers with the GIL released, and reaches the CLI's own file path
// (cli/process.h: decode, memory check, streamed encode, atomic write) and job planner
// (cli/jobs.h: folder expansion, NAME<suffix>.<ext>, skip and duplicate rules), so files
// written from Python are the CLI's bytes by construction. Argument checking that can happen
// before any work (dtype, shape) is done in lucent/__init__.py; what reaches here is a
// C-contiguous array of a supported dtype, and the library checks the rest.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"
#include "jobs.h"
#include "lucent/lucent.hpp"
#include "process.h"

namespace py = pybind11;

namespace {

// Raised as lucent.Error (a RuntimeError) with the library's message.
struct LucentError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(const lucent::Status& st) {
    if (!st.ok()) throw LucentError(st.message());
}

lucent::PixelType pixel_type_of(const py::dtype& dt) {
    if (dt.is(py::dtype::of<uint8_t>())) return lucent::PixelType::kU8;
    if (dt.is(py::dtype::of<uint16_t>())) return lucent::PixelType::kU16;
    if (dt.is(py::dtype::of<float>())) return lucent::PixelType::kF32;
    throw py::type_error("lucent: the array's dtype must be uint8, uint16 or float32");
}

// A C-contiguous H x W x C (or H x W) array as an image view (read-only arrays are fine for
// inputs: only outputs are written through the view).
lucent::ImageView view_of(py::array& a, bool written) {
    if (!(a.flags() & py::array::c_style))
        throw py::value_error("lucent: the array must be C-contiguous");
    if (a.ndim() != 2 && a.ndim() != 3)
        throw py::value_error("lucent: the array must be H x W or H x W x C");
    lucent::ImageView v;
    v.data = written ? a.mutable_data() : const_cast<void*>(a.data());
    v.size_bytes = static_cast<size_t>(a.nbytes());
    v.height = a.shape(0);
    v.width = a.shape(1);
    v.channels = a.ndim() == 3 ? static_cast<int32_t>(a.shape(2)) : 1;
    v.type = pixel_type_of(a.dtype());
    return v;
}

class PyModel {
  public:
    PyModel(const std::string& path, int kind, int threads, bool bf16, uint64_t max_memory) {
        lucent::Options opt;
        opt.num_threads = threads;
        opt.precision = bf16 ? lucent::Precision::kBf16 : lucent::Precision::kFp32;
        opt.max_memory_bytes = max_memory;
        lucent::Result<lucent::Model> m =
            path.empty() ? lucent::Model::load_default(static_cast<lucent::ModelKind>(kind), opt)
                         : lucent::Model::load(path, opt);
        check(m.status());
        model_ = std::make_unique<lucent::Model>(std::move(m).value());
    }

    int kind() const { return static_cast<int>(model_->kind()); }
    int64_t scale() const { return model_->scale(); }
    int64_t in_channels() const { return model_->in_channels(); }
    int threads() const { return model_->num_threads(); }
    std::string name() const { return model_->name(); }
    std::string graph() const { return model_->graph(); }
    std::string isa() const { return lucent::isa_name(model_->isa()); }

    py::tuple output_size(int64_t w, int64_t h, int32_t c) const {
        lucent::ImageSize s;
        check(model_->output_image_size(w, h, c, &s));
        return py::make_tuple(s.height, s.width, s.channels);
    }

    // in -> out, both C-contiguous, out of output_size's shape; the GIL is released meanwhile.
    void run(py::array in, py::array out) const {
        const lucent::ConstImageView iv = view_of(in, false);
        const lucent::ImageView ov = view_of(out, true);
        lucent::Status st;
        {
            py::gil_scoped_release unlocked;
            st = model_->run_image(iv, ov);
        }
        check(st);
    }

    // One file to another exactly as `lucent upscale IN OUT` (atomic; the GIL released).
    py::dict process_file(const std::string& in, const std::string& out) const {
        lucent::cli::FileResult r;
        lucent::Status st;
        {
            py::gil_scoped_release unlocked;
            st = lucent::cli::process_file(*model_, in, out, &r);
        }
        check(st);
        py::dict d;
        d["in_size"] = py::make_tuple(r.in_w, r.in_h);
        d["out_size"] = py::make_tuple(r.out_w, r.out_h);
        d["alpha_dropped"] = r.alpha_dropped;
        d["ms"] = r.decode_ms + r.run_ms + r.encode_ms;
        return d;
    }

    // Seconds per run_image call through the C++ API alone (the overhead benchmark's peer).
    std::vector<double> time_cpp_runs(py::array in, py::array out, int reps) const {
        const lucent::ConstImageView iv = view_of(in, false);
        const lucent::ImageView ov = view_of(out, true);
        std::vector<double> times;
        py::gil_scoped_release unlocked;
        for (int i = 0; i < reps; ++i) {
            const auto t = std::chrono::steady_clock::now();
            const lucent::Status st = model_->run_image(iv, ov);
            times.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
            if (!st.ok()) break;
        }
        return times;
    }

    void release_working_memory() const { model_->release_working_memory(); }

  private:
    std::unique_ptr<lucent::Model> model_;
};

// The CLI's -o planning: [(input, output, skip reason, error)].
std::vector<py::tuple> plan_jobs(const std::vector<std::string>& inputs, const std::string& outdir,
                                 py::object suffix, const std::string& ext, bool overwrite,
                                 const std::string& default_suffix) {
    lucent::cli::Args a;
    a.inputs = inputs;
    a.output = outdir;
    a.output_is_folder = true;
    if (!suffix.is_none()) {
        a.suffix = suffix.cast<std::string>();
        a.suffix_set = true;
    }
    a.ext = ext;
    a.overwrite = overwrite;
    lucent::Result<std::vector<lucent::cli::Job>> jobs = lucent::cli::plan_jobs(a, default_suffix);
    check(jobs.status());
    std::vector<py::tuple> out;
    for (const lucent::cli::Job& j : jobs.value())
        out.push_back(py::make_tuple(j.in, j.out, j.skip, j.error));
    return out;
}

}  // namespace

PYBIND11_MODULE(_lucent, m) {
    m.doc() = "Lucent's compiled core; use the lucent package (lucent.Model) instead.";
    py::register_exception<LucentError>(m, "Error", PyExc_RuntimeError);
    m.attr("version") = lucent::version();
    py::class_<PyModel>(m, "Model")
        .def(py::init<const std::string&, int, int, bool, uint64_t>())
        .def_property_readonly("kind", &PyModel::kind)
        .def_property_readonly("scale", &PyModel::scale)
        .def_property_readonly("in_channels", &PyModel::in_channels)
        .def_property_readonly("threads", &PyModel::threads)
        .def_property_readonly("name", &PyModel::name)
        .def_property_readonly("graph", &PyModel::graph)
        .def_property_readonly("isa", &PyModel::isa)
        .def("output_size", &PyModel::output_size)
        .def("run", &PyModel::run)
        .def("process_file", &PyModel::process_file)
        .def("time_cpp_runs", &PyModel::time_cpp_runs)
        .def("release_working_memory", &PyModel::release_working_memory);
    m.def("plan_jobs", &plan_jobs);
}
