// Mark each vgglib table that is wider than its container, so its "scroll sideways" hint shows.
function vggMarkOverflow() {
  document.querySelectorAll(".vgg-table").forEach(function (t) {
    var s = t.querySelector(".vgg-scroll");
    if (s) t.classList.toggle("vgg-overflow", s.scrollWidth > s.clientWidth + 1);
  });
}
window.addEventListener("load", vggMarkOverflow);
window.addEventListener("resize", vggMarkOverflow);
