# %% [markdown]
# # Your first economy
#
# Placeholder.

# %%
import marketsai as mai
