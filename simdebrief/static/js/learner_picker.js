// SimDebrief: type-to-search for the learners of a session. Without this script the form
// keeps its plain multi-select of every student; with it, the select stays the form's field
// (hidden) and this script only ticks and unticks its options.
(function () {
  "use strict";
  var picker = document.querySelector(".learner-picker");
  var select = picker && picker.querySelector("select[multiple]");
  if (!select || !window.fetch) { return; }
  var data = picker.dataset;

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) { node.textContent = text; }
    return node;
  }

  var searchId = select.id + "-search";
  var label = element("label", { for: searchId }, data.labelSearch);
  var input = element("input", { type: "search", id: searchId, autocomplete: "off",
                                 "aria-controls": select.id + "-results" });
  var status = element("p", { class: "hint", role: "status", "aria-live": "polite" });
  var results = element("ul", { id: select.id + "-results", class: "plain-list picker-results" });
  var chosenHeading = element("p", { id: select.id + "-chosen-heading" }, data.labelChosen);
  var chosen = element("ul", { class: "plain-list picker-chosen",
                               "aria-labelledby": select.id + "-chosen-heading" });
  select.hidden = true;
  var hint = picker.querySelector(".hint");
  if (hint) { hint.hidden = true; }
  picker.querySelector("label[for='" + select.id + "']").hidden = true;
  [label, input, status, results, chosenHeading, chosen].forEach(function (node) {
    picker.appendChild(node);
  });

  function option(id) {
    return select.querySelector("option[value='" + String(Number(id)) + "']");
  }

  function showChosen() {
    chosen.textContent = "";
    var picked = Array.prototype.filter.call(select.options, function (o) { return o.selected; });
    if (!picked.length) {
      chosen.appendChild(element("li", { class: "hint" }, data.labelNobody));
    }
    picked.forEach(function (o) {
      var item = element("li", {}, o.textContent + " ");
      var remove = element("button", { type: "button", class: "link-button" }, data.labelRemove);
      remove.appendChild(element("span", { class: "visually-hidden" }, " " + o.textContent));
      remove.addEventListener("click", function () {
        o.selected = false;
        showChosen();
        input.focus();
      });
      item.appendChild(remove);
      chosen.appendChild(item);
    });
  }

  function showResults(body) {
    results.textContent = "";
    body.learners.forEach(function (learner) {
      var o = option(learner.id);
      if (!o || o.selected) { return; }
      var item = element("li");
      var add = element("button", { type: "button", class: "button secondary" },
                        data.labelAdd + " " + learner.name + " (" + learner.email + ")");
      add.addEventListener("click", function () {
        o.selected = true;
        item.remove();
        showChosen();
        input.focus();
      });
      item.appendChild(add);
      results.appendChild(item);
    });
    status.textContent = !results.children.length ? data.labelNone
      : (body.more ? data.labelMore : "");
  }

  var timer = null;
  var asked = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var text = input.value.trim();
    if (text.length < 2) {
      results.textContent = "";
      status.textContent = "";
      return;
    }
    timer = setTimeout(function () {
      var number = ++asked;
      fetch(data.searchUrl + "?q=" + encodeURIComponent(text),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (body && number === asked) { showResults(body); }
        })
        .catch(function () { /* the select is still there to submit */ });
    }, 250);
  });
  // Enter in the search box must not submit the whole form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }
  });
  showChosen();
}());
