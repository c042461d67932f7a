// Drag-and-drop upload with a progress bar; the plain form works without this script.
(function () {
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var drop = document.getElementById("drop");
  var input = form.querySelector("input[type=file]");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      status.textContent = "Chosen: " + input.files[0].name;
    }
  });
  form.addEventListener("submit", function (e) {
    if (!input.files.length) { return; }
    var limit = parseInt(form.dataset.limit, 10);
    if (input.files[0].size > limit) {
      e.preventDefault();
      status.textContent = "This file is over the upload limit; export only the responses.";
      return;
    }
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "harmonise-upload");
    bar.hidden = false;
    xhr.upload.addEventListener("progress", function (p) {
      if (p.lengthComputable) { bar.value = p.loaded / p.total; }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status < 400) {
        window.location.assign(JSON.parse(xhr.responseText).location);
        return;
      }
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = doc.querySelector("main");
      if (main) { document.querySelector("main").replaceWith(document.adoptNode(main)); }
    });
    xhr.addEventListener("error", function () {
      status.textContent = "The upload did not reach the server; try again.";
    });
    status.textContent = "Uploading and checking…";
    xhr.send(new FormData(form));
  });
})();
