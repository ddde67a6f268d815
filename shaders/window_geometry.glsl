// window_geometry.glsl - where a token sits in Swin's shifted, padded
// window layout, shared by window_attention.comp and its texel variant.
// The including kernel declares the push block `p` with H, W (the map),
// Hp, Wp (padded to multiples of the window), WS (window) and shift.
//
// Query token (y, x) of an H x W map sits at (i, j) = ((y - s) mod Hp,
// (x - s) mod Wp) of the shifted map padded to Hp x Wp; it attends to the
// WS*WS positions of its window there. With a shift, the rolled map has
// three regions per axis, and keys from another region get -100
// (transformers' mask).

uint window_region(uint i, uint size)
{
    return i < size - p.WS ? 0u : (i < size - p.shift ? 1u : 2u);
}

// The mask region of position (i, j) of the shifted, padded map.
uint window_region_at(uint i, uint j)
{
    return window_region(i, p.Hp) * 3u + window_region(j, p.Wp);
}

// The token at position (i, j) of the shifted, padded map, and whether it
// is padding: then the nearest real token, so that loads stay in bounds
// (the caller uses the zero token's values instead).
uint window_token(uint i, uint j, out bool padded)
{
    uint y = (i + p.shift) % p.Hp, x = (j + p.shift) % p.Wp;
    padded = y >= p.H || x >= p.W;
    return min(y, p.H - 1u) * p.W + min(x, p.W - 1u);
}

struct WindowQuery {
    uint wi, wj; // the window's corner in the shifted, padded map
    uint qi;     // the query's position in its window (row of the bias table)
    uint rq;     // its region
};

WindowQuery window_query(uint tok)
{
    uint y = tok / p.W, x = tok % p.W;
    uint i = (y + p.Hp - p.shift) % p.Hp, j = (x + p.Wp - p.shift) % p.Wp;
    WindowQuery w;
    w.wi = i / p.WS * p.WS;
    w.wj = j / p.WS * p.WS;
    w.qi = (i - w.wi) * p.WS + (j - w.wj);
    w.rq = window_region_at(i, j);
    return w;
}

// Key kk of the query's window: its token in the map (window_token),
// whether it is padding (then it is a zero token after LayerNorm), and the
// mask to add to its score.
bool window_key(WindowQuery w, uint kk, out uint ktok, out float mask)
{
    uint ki = w.wi + kk / p.WS, kj = w.wj + kk % p.WS;
    bool padded;
    ktok = window_token(ki, kj, padded);
    mask = p.shift > 0u && window_region_at(ki, kj) != w.rq ? -100.0 : 0.0;
    return padded;
}
