// sepal-bench's SVG plot: throughput against packet size (log scale) for
// each AEAD and backend, seal and open side by side. Plain SVG 1.1 written
// by hand, no dependency; every series is a <g class="series"> carrying its
// AEAD, backend and operation as data- attributes (benchmarks/meson.build's
// test reads them back).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct plot_series {
  std::string aead, backend, op;
  std::vector<std::pair<double, double>> points;  ///< (bytes, MB/s), ascending bytes
};

/// printf onto the end of `out`, whatever the length.
[[gnu::format(printf, 2, 3)]] inline void appendf(std::string& out, const char* f, ...) {
  va_list a, b;
  va_start(a, f);
  va_copy(b, a);
  const int n = std::vsnprintf(nullptr, 0, f, a);
  va_end(a);
  if (n > 0) {
    const auto at = out.size();
    out.resize(at + static_cast<std::size_t>(n) + 1);
    std::vsnprintf(out.data() + at, static_cast<std::size_t>(n) + 1, f, b);
    out.resize(at + static_cast<std::size_t>(n));
  }
  va_end(b);
}

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// A human size label: 64 B, 16 KiB, 1 MiB.
inline std::string size_label(double bytes) {
  std::string o;
  if (bytes >= 1048576 && std::fmod(bytes, 1048576) == 0) {
    appendf(o, "%.0f MiB", bytes / 1048576);
  } else if (bytes >= 1024 && std::fmod(bytes, 1024) == 0) {
    appendf(o, "%.0f KiB", bytes / 1024);
  } else {
    appendf(o, "%.0f B", bytes);
  }
  return o;
}

/// The SVG document: one panel per operation (seal, open), x = packet size
/// on a log scale, y = MB/s from 0; colour = AEAD, dash pattern = backend.
inline std::string svg_plot(const std::vector<plot_series>& series, const std::string& subtitle) {
  const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"};
  const std::map<std::string, std::string> dashes = {
      {"sepal", ""}, {"Botan", "7,4"}, {"OpenSSL", "2,3"}, {"libsodium", "9,3,2,3"}};
  std::vector<std::string> aeads, backends, ops = {"seal", "open"};
  double xmin = 1e300, xmax = 0, ymax = 0;
  for (const auto& s : series) {
    if (std::find(aeads.begin(), aeads.end(), s.aead) == aeads.end()) aeads.push_back(s.aead);
    if (std::find(backends.begin(), backends.end(), s.backend) == backends.end()) backends.push_back(s.backend);
    for (const auto& [x, y] : s.points) {
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
    }
  }
  if (xmax <= xmin) xmax = xmin * 2;
  if (ymax <= 0) ymax = 1;
  // A round y step: 1, 2 or 5 times a power of ten, about 6 gridlines.
  const double raw = ymax / 6, mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  const double ytop = std::ceil(ymax / step) * step;

  const double pw = 520, ph = 340, left = 70, top = 60, gap = 90;
  const double width = left + 2 * pw + gap + 30, legend_top = top + ph + 60;
  const double height = legend_top + 22.0 * static_cast<double>(std::max(aeads.size(), backends.size())) + 20;
  std::string o;
  appendf(o,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
                "<title>sepal-bench: AEAD throughput against packet size</title>\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                "<text x=\"%.0f\" y=\"24\" font-size=\"16\">AEAD throughput against packet size (MB/s, median)</text>\n"
                "<text x=\"%.0f\" y=\"42\" fill=\"#555\">%s</text>\n",
                width, height, width, height, left, left, xml_escape(subtitle).c_str());
  const auto xpos = [&](double x, double x0) {
    return x0 + pw * (std::log2(x) - std::log2(xmin)) / (std::log2(xmax) - std::log2(xmin));
  };
  const auto ypos = [&](double y) { return top + ph - ph * y / ytop; };
  for (std::size_t p = 0; p < ops.size(); ++p) {
    const double x0 = left + static_cast<double>(p) * (pw + gap);
    appendf(o, "<g class=\"panel\" data-op=\"%s\">\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"14\">%s</text>\n",
                  ops[p].c_str(), x0, top - 6, ops[p].c_str());
    for (double y = 0; y <= ytop + step / 2; y += step) {
      appendf(o,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                    x0, ypos(y), x0 + pw, ypos(y), x0 - 6, ypos(y) + 4, y);
    }
    std::vector<double> xs;
    for (const auto& s : series)
      for (const auto& pt : s.points)
        if (std::find(xs.begin(), xs.end(), pt.first) == xs.end()) xs.push_back(pt.first);
    for (double x : xs) {
      appendf(o,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    xpos(x, x0), top, xpos(x, x0), top + ph, xpos(x, x0), top + ph + 16, size_label(x).c_str());
    }
    appendf(o,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">packet size (log scale)</text>\n"
                  "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">MB/s</text>\n",
                  x0, top, pw, ph, x0 + pw / 2, top + ph + 34, x0 - 52, top + ph / 2);
    for (const auto& s : series) {
      if (s.op != ops[p] || s.points.empty()) continue;
      const auto ai = static_cast<std::size_t>(std::find(aeads.begin(), aeads.end(), s.aead) - aeads.begin());
      const std::string colour = palette[ai % std::size(palette)];
      const auto d = dashes.find(s.backend);
      const std::string dash = d == dashes.end() ? "1,1" : d->second;
      appendf(o,
                    "<g class=\"series\" data-aead=\"%s\" data-backend=\"%s\" data-op=\"%s\">"
                    "<title>%s, %s, %s</title>\n",
                    xml_escape(s.aead).c_str(), xml_escape(s.backend).c_str(), s.op.c_str(), xml_escape(s.aead).c_str(),
                    xml_escape(s.backend).c_str(), s.op.c_str());
      o += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"" +
           (s.backend == "sepal" ? "2.5" : "1.5") + "\"" + (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") +
           " points=\"";
      for (const auto& [x, y] : s.points) {
        appendf(o, "%.1f,%.1f ", xpos(x, x0), ypos(y));
      }
      o += "\"/>\n";
      for (const auto& [x, y] : s.points) {
        appendf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s %s %s %s: %.1f MB/s</title></circle>\n",
                      xpos(x, x0), ypos(y), colour.c_str(), xml_escape(s.aead).c_str(), xml_escape(s.backend).c_str(),
                      s.op.c_str(), size_label(x).c_str(), y);
      }
      o += "</g>\n";
    }
    o += "</g>\n";
  }
  o += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < aeads.size(); ++i) {
    const double y = legend_top + 22.0 * static_cast<double>(i);
    appendf(o,
                  "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"3\"/>"
                  "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                  left, y, left + 30, y, palette[i % std::size(palette)], left + 38, y + 4, xml_escape(aeads[i]).c_str());
  }
  for (std::size_t i = 0; i < backends.size(); ++i) {
    const double y = legend_top + 22.0 * static_cast<double>(i), x = left + pw + gap;
    const auto d = dashes.find(backends[i]);
    const std::string dash = d == dashes.end() ? "1,1" : d->second;
    appendf(o,
                  "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\" stroke-width=\"2\"%s%s%s/>"
                  "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                  x, y, x + 40, y, dash.empty() ? "" : " stroke-dasharray=\"", dash.c_str(), dash.empty() ? "" : "\"",
                  x + 48, y + 4, xml_escape(backends[i]).c_str());
  }
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace bench
