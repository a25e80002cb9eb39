// Mark each vgglib table that is wider than its container, so its "scroll sideways" hint shows
// (vgg.css); without this script the hint shows on wide tables at phone widths instead.
document.documentElement.classList.add("vgg-js");
function vggMarkOverflow() {
  document.querySelectorAll(".vgg-table").forEach(function (t) {
    var s = t.querySelector(".vgg-scroll");
    if (s) t.classList.toggle("vgg-overflow", s.scrollWidth > s.clientWidth + 1);
  });
}
document.addEventListener("DOMContentLoaded", vggMarkOverflow);
window.addEventListener("load", vggMarkOverflow);
window.addEventListener("resize", vggMarkOverflow);
