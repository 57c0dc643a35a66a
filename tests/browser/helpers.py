"""Page-level checks and small actions shared by the browser tests."""

from __future__ import annotations

from typing import Any

from tests.browser.world import PASSWORD

PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}
TABLET_PORTRAIT = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True}
TABLET_LANDSCAPE = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}

MIN_TARGET = 48  # CSS px, both ways (WCAG 2.5.5 target size, NHS.UK's own guidance)
MIN_BODY_TEXT = 19  # CSS px: participant pages' body text

# What a person taps: buttons, form fields, <summary>, links styled as buttons and the question
# navigation links. Ordinary text links inside a sentence are exempt (WCAG 2.5.8's inline
# exception); so is the skip link, which is off-screen until focused. NHS.UK's radios and
# checkboxes hide their <input> under a 40px box inside a 48px+ label, so the label is measured.
_LAYOUT_JS = """
({minTarget, minText}) => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`scrolls sideways: content ${doc.scrollWidth}px wide in a ${window.innerWidth}px window`);
  }
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none"
      && !el.closest(".nhsuk-u-visually-hidden, [hidden]");
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || el.id || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.className ? " class=" + el.className : ""}> "${text}"`;
  };
  const targets = document.querySelectorAll(
    "button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, summary, " +
    "a.nhsuk-button, .app-question-nav a, .nhsuk-radios__label, .nhsuk-checkboxes__label");
  for (const el of targets) {
    if (!shown(el) || el.closest(".nhsuk-skip-link")) continue;
    const box = el.getBoundingClientRect();
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5) {
      problems.push(`target smaller than ${minTarget}x${minTarget}: ${name(el)} is ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  // Body text: every element in <main> that holds text of its own.
  const seen = new Set();
  for (const el of document.querySelectorAll("main *")) {
    if (!shown(el)) continue;
    const own = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minText - 0.01 && !seen.has(el.tagName + el.className)) {
      seen.add(el.tagName + el.className);
      problems.push(`text smaller than ${minText}px: ${name(el)} is ${size}px`);
    }
  }
  return problems;
}
"""


def layout_problems(page: Any, *, zoom_check: bool = True) -> list[str]:
    """Participant page rules: no sideways scrolling, 48x48 targets, body text of 19px or more, and
    no sideways scrolling at 200% zoom (the same CSS at half the width; never below 320px, the
    width WCAG 1.4.10 asks content to reflow to)."""
    problems: list[str] = page.evaluate(_LAYOUT_JS, {"minTarget": MIN_TARGET, "minText": MIN_BODY_TEXT})
    if zoom_check:
        size = page.viewport_size
        page.set_viewport_size({"width": max(320, size["width"] // 2), "height": max(320, size["height"] // 2)})
        try:
            wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if wide[0] > wide[1]:
                problems.append(f"at 200% zoom scrolls sideways: content {wide[0]}px wide in a {wide[1]}px window")
        finally:
            page.set_viewport_size(size)
    return problems


def sideways_scroll(page: Any) -> list[str]:
    """Staff pages too never scroll sideways: wide tables scroll inside their own box."""
    wide, window = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return [f"scrolls sideways: content {wide}px wide in a {window}px window"] if wide > window else []


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


FOCUS_STYLE_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", visible: false};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
    && style.outlineColor !== "rgba(0, 0, 0, 0)" && style.outlineColor !== "transparent";
  const shadow = style.boxShadow && style.boxShadow !== "none";
  const background = style.backgroundColor;
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || "").trim().slice(0, 80), id: el.id,
          label: el.labels && el.labels.length ? el.labels[0].innerText.trim() : (el.getAttribute("aria-label") || ""),
          visible: Boolean(outline || shadow), outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
          shadow: style.boxShadow, background};
}
"""


def focused(page: Any) -> dict[str, Any]:
    """The focused element and whether it shows a focus indicator (a visible outline or a box-shadow)."""
    result: dict[str, Any] = page.evaluate(FOCUS_STYLE_JS)
    return result
