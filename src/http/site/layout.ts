/**
 * The page frame of the built-in website: plain semantic HTML, one inline
 * style sheet, no scripts and no external assets, readable in light and dark
 * mode and on small screens.
 */

export function html(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#555;--link:#0b57d0;--line:#ddd}
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#121212;--muted:#aaa;--link:#8ab4f8;--line:#333}}
*{box-sizing:border-box}
body{margin:0;font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:42rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.2rem}
header a{color:var(--fg);text-decoration:none;font-weight:600}
nav{margin-top:.3rem}
nav a{margin-right:1rem}
a{color:var(--link)}
h1{font-size:1.7rem;line-height:1.25;margin:1.2rem 0 .6rem;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:1.8rem 0 .4rem}
.qr{display:block;width:min(100%,20rem);margin:1.2rem auto;background:#fff;padding:0;border-radius:4px}
.qr svg{display:block;width:100%;height:auto}
.button{display:inline-block;padding:.6rem 1.1rem;border-radius:.4rem;background:var(--link);color:var(--bg);text-decoration:none;font-weight:600}
.center{text-align:center}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.muted,footer{color:var(--muted)}
footer{margin-top:2.5rem;padding-bottom:2rem;font-size:.9rem}
address{font-style:normal;white-space:pre-line}
code{overflow-wrap:anywhere}
`
  .trim()
  .replace(/\n/g, "");

export interface PageFrame {
  domain: string;
  title: string;
  body: string;
  /** Path of this page, to mark the current link. */
  path: string;
}

export function page(p: PageFrame): string {
  const link = (href: string, text: string) =>
    `<a href="${href}"${href === p.path ? ' aria-current="page"' : ""}>${text}</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${html(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<a href="/">${html(p.domain)}</a>
<nav aria-label="Pages">${link("/", "Home")}${link("/info.html", "Info")}${link("/privacy.html", "Privacy")}</nav>
</header>
<main>
${p.body}
</main>
<footer>
<p>${html(p.domain)} is a <a href="https://chatmail.at">chatmail</a> relay for <a href="https://delta.chat">Delta Chat</a>.</p>
</footer>
</body>
</html>
`;
}
