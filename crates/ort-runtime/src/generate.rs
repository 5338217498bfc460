//! Greedy text generation over a decoder with a KV cache, in the layout that
//! onnxruntime-genai's model builder (and Hugging Face Optimum) export:
//! inputs `input_ids` `[B, S]`, optional `attention_mask` `[B, P + S]` and
//! `position_ids` `[B, S]`, and `past_key_values.{i}.key/value` `[B, Nkv, P, H]`;
//! outputs `logits` `[B, S, V]` and `present.{i}.key/value`, fed back as the
//! next step's past.

use std::time::{Duration, Instant};

use ort_core::{Dim, ElemType, Tensor, Value};

use crate::{Error, Result, Session};

/// What a generation produced.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The new token ids (the prompt excluded).
    pub tokens: Vec<i64>,
    /// The logits of each step's last position, `[V]` each: the prompt's step
    /// first, then one per generated token but the last.
    pub logits: Vec<Vec<f32>>,
    /// Time of the prompt step, and of all the steps after it.
    pub prompt_time: Duration,
    pub decode_time: Duration,
}

/// How to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub max_new_tokens: usize,
    /// Stop after this id.
    pub eos: Option<i64>,
    /// Key/value heads and head size of the cache, where the model leaves
    /// them symbolic (onnxruntime-genai's `genai_config.json` has them).
    pub kv_heads: Option<i64>,
    pub head_size: Option<i64>,
}

/// A past input and the present output that feeds it next step.
struct Cache {
    past: String,
    present: String,
    elem: ElemType,
    /// The past's sizes but batch and sequence: Nkv and H.
    heads: i64,
    head_size: i64,
}

/// The present output that feeds `past`: `past_key_values.N.key` →
/// `present.N.key` (also `past.` → `present.`).
fn present_of(past: &str) -> Option<String> {
    past.strip_prefix("past_key_values")
        .or_else(|| past.strip_prefix("past"))
        .map(|rest| format!("present{rest}"))
}

fn known(d: &Dim, given: Option<i64>, what: &str) -> Result<i64> {
    d.known().or(given).ok_or_else(|| {
        Error::input(format!(
            "{what} is not fixed in the model: give it (genai_config.json has it)"
        ))
    })
}

fn ids_value(elem: ElemType, shape: &[i64], ids: &[i64]) -> Result<Value> {
    let t = match elem {
        ElemType::I32 => Tensor::from_vec(shape, ids.iter().map(|&v| v as i32).collect()),
        _ => Tensor::from_vec(shape, ids.to_vec()),
    };
    t.map(Value::Tensor)
        .map_err(|e| Error::input(e.to_string()))
}

/// Runs `session` greedily from `prompt` for `opts.max_new_tokens` tokens
/// (fewer when `opts.eos` comes out), batch 1.
pub fn greedy(session: &Session, prompt: &[i64], opts: &Options) -> Result<Generation> {
    let (max_new, eos) = (opts.max_new_tokens, opts.eos);
    if prompt.is_empty() {
        return Err(Error::input("the prompt has no token ids"));
    }
    let decl = |n: &str| session.inputs().iter().find(|d| d.name == n);
    let ids_decl = decl("input_ids")
        .ok_or_else(|| Error::input("the model has no input named 'input_ids'"))?;
    let ids_elem = ids_decl.ty.elem().unwrap_or(ElemType::I64);
    let mask = decl("attention_mask").map(|d| d.ty.elem().unwrap_or(ElemType::I64));
    let pos = decl("position_ids").map(|d| d.ty.elem().unwrap_or(ElemType::I64));
    let mut caches = Vec::new();
    for d in session.inputs() {
        let Some(present) = present_of(&d.name) else {
            continue;
        };
        if !session.outputs().iter().any(|o| o.name == present) {
            return Err(Error::input(format!(
                "input '{}' has no present output '{present}' to feed it",
                d.name
            )));
        }
        let shape = d.ty.shape().filter(|s| s.len() == 4).ok_or_else(|| {
            Error::input(format!(
                "past input '{}' must be [B, heads, past, head size]",
                d.name
            ))
        })?;
        caches.push(Cache {
            past: d.name.clone(),
            present,
            elem: d.ty.elem().unwrap_or(ElemType::F32),
            heads: known(
                &shape[1],
                opts.kv_heads,
                &format!("the heads of '{}'", d.name),
            )?,
            head_size: known(
                &shape[3],
                opts.head_size,
                &format!("the head size of '{}'", d.name),
            )?,
        });
    }
    if !session.outputs().iter().any(|o| o.name == "logits") {
        return Err(Error::input("the model has no output named 'logits'"));
    }
    let mut past: Vec<Value> = caches
        .iter()
        .map(|c| {
            let shape = [1, c.heads, 0, c.head_size];
            let t = match c.elem {
                ElemType::F16 => Tensor::from_vec::<half::f16>(&shape, vec![]),
                _ => Tensor::from_vec::<f32>(&shape, vec![]),
            };
            t.map(Value::Tensor)
                .map_err(|e| Error::input(e.to_string()))
        })
        .collect::<Result<_>>()?;
    let mut wanted: Vec<&str> = vec!["logits"];
    wanted.extend(caches.iter().map(|c| c.present.as_str()));
    let mut out = Generation {
        tokens: Vec::new(),
        logits: Vec::new(),
        prompt_time: Duration::ZERO,
        decode_time: Duration::ZERO,
    };
    let mut step: Vec<i64> = prompt.to_vec();
    let mut done = 0usize;
    while out.tokens.len() < max_new {
        let t0 = Instant::now();
        let s = step.len();
        let mut feeds: Vec<(&str, Value)> =
            vec![("input_ids", ids_value(ids_elem, &[1, s as i64], &step)?)];
        if let Some(e) = mask {
            feeds.push((
                "attention_mask",
                ids_value(e, &[1, (done + s) as i64], &vec![1; done + s])?,
            ));
        }
        if let Some(e) = pos {
            let p: Vec<i64> = (done..done + s).map(|v| v as i64).collect();
            feeds.push(("position_ids", ids_value(e, &[1, s as i64], &p)?));
        }
        for (c, v) in caches.iter().zip(&past) {
            feeds.push((c.past.as_str(), v.clone()));
        }
        let mut res = session.run(&feeds, &wanted)?.into_iter();
        let logits = res.next().expect("logits were asked for");
        past = res.collect();
        let lt = logits.tensor().map_err(|e| Error::run(e.to_string()))?;
        let v = *lt.shape().last().unwrap_or(&0) as usize;
        let last: Vec<f32> = match lt.elem() {
            ElemType::F16 => lt
                .as_slice::<half::f16>()
                .map(|x| x.iter().map(|v| v.to_f32()).collect()),
            _ => lt.as_slice::<f32>().map(|x| x.to_vec()),
        }
        .map_err(|e| Error::run(e.to_string()))?
        .split_off(lt.len() - v);
        // The first maximum, as numpy's argmax picks it.
        let next = last
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |best, (i, &x)| {
                if x > best.1 {
                    (i, x)
                } else {
                    best
                }
            })
            .0 as i64;
        if done == 0 {
            out.prompt_time = t0.elapsed();
        } else {
            out.decode_time += t0.elapsed();
        }
        out.logits.push(last);
        out.tokens.push(next);
        done += s;
        step = vec![next];
        if Some(next) == eos {
            break;
        }
    }
    Ok(out)
}
