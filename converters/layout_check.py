"""Shared by the SSR and RED layouts: the error type and the exact tensor-set check."""


class ConvertError(Exception):
    """The checkpoint does not fit the graph; the message names the offending keys."""


def check_exact(sd, shapes, graph):
    """sd must hold exactly the names in shapes, each with that shape."""
    missing = [k for k in shapes if k not in sd]
    extra = [k for k in sd if k not in shapes]
    wrong = [f"{k} is {tuple(sd[k].shape)}, expected {shapes[k]}" for k in shapes
             if k in sd and tuple(sd[k].shape) != shapes[k]]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)}: " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))
    if extra:
        problems.append(f"unexpected {len(extra)}: " + ", ".join(extra[:8]) + (" ..." if len(extra) > 8 else ""))
    if wrong:
        problems.append(f"mis-shaped {len(wrong)}: " + "; ".join(wrong[:8]) + (" ..." if len(wrong) > 8 else ""))
    if problems:
        raise ConvertError(f"the tensors do not form a {graph} graph: " + " | ".join(problems))
