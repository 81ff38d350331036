"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Pipelines" },
  { href: "/runs", label: "Runs" },
  { href: "/models", label: "Models" },
  { href: "/workers", label: "Workers" },
  { href: "/keys", label: "API keys" },
];

export function Nav() {
  const pathname = usePathname();
  const active = (href: string) => (href === "/" ? pathname === "/" || pathname.startsWith("/pipelines") : pathname.startsWith(href));
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        TUDSR <span>Studio</span>
      </Link>
      <nav>
        {LINKS.map((link) => (
          <Link key={link.href} href={link.href} className={active(link.href) ? "active" : undefined}>
            {link.label}
          </Link>
        ))}
      </nav>
      <a className="topbar-docs" href="/api/openapi.json" target="_blank" rel="noreferrer">
        API
      </a>
    </header>
  );
}
